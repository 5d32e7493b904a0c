"""The GPUs: the `[gpu]` section (where GPU facts are read, and the utilisation check's load)."""
from __future__ import annotations

from dataclasses import dataclass

from citadel_acceptance.errors import SuiteConfigError

GPU_SOURCES = ("nvml", "gateway", "prometheus", "none")


@dataclass(frozen=True)
class GpuSettings:
    """The profile's `[gpu]`: nvml (the suite runs on the GPU host), gateway (its GET /health/gpu),
    prometheus (dcgm-exporter's series) or none (GPU scenarios are skipped with that reason)."""

    source: str = "nvml"
    gateway_path: str = "/health/gpu"
    prometheus_url: str = ""
    prometheus_selector: str = ""  # extra label matchers, e.g. Hostname="gpu-01"
    load_s: float = 30.0  # how long the utilisation check loads the models
    load_rps: float = 2.0
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "prometheus_url", self.prometheus_url.rstrip("/"))

    def validate(self) -> None:
        """Raise SuiteConfigError when the source is not one the suite can read."""
        if self.source not in GPU_SOURCES:
            raise SuiteConfigError(f"gpu.source must be one of {', '.join(GPU_SOURCES)}, not {self.source!r}")
