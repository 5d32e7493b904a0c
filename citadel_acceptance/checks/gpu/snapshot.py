"""What the suite knows about the GPUs at one instant: one typed record per device, from any source.

A snapshot is the same whichever source read it (NVML on the GPU host, the gateway's
`GET /health/gpu`, dcgm-exporter through Prometheus), and it round-trips through JSON: recorded
snapshots in `tests/data/gpu/` are what the verdict logic is unit-tested on, and the gateway's
`/health/gpu` is expected to answer this very shape (`GpuSnapshot.as_dict`).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Clock-event ("throttle") reasons as NVML numbers them (nvmlClocksEventReason*): bit -> name.
THROTTLE_REASONS: dict[int, str] = {
    0x001: "gpu_idle",
    0x002: "applications_clocks_setting",
    0x004: "sw_power_cap",
    0x008: "hw_slowdown",
    0x010: "sync_boost",
    0x020: "sw_thermal_slowdown",
    0x040: "hw_thermal_slowdown",
    0x080: "hw_power_brake_slowdown",
    0x100: "display_clock_setting",
}
# The reasons that mean the hardware itself is slowing the GPU down (heat, power brake, a fault).
HARDWARE_SLOWDOWNS: frozenset[str] = frozenset({"hw_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown"})


class GpuUnavailable(RuntimeError):
    """No GPU facts can be read from the chosen source; the message is the source's own reason. As such: no GPU
    this host may read (gpu.source none, no NVML library or driver here): the GPU scenarios are skipped."""


class GpuReadError(GpuUnavailable):
    """The declared source failed to give the GPUs (an error answer, a lost GPU, no dcgm series): the GPU
    scenarios fail with the reason, never skip (a skip would leave the run's exit code at 0)."""


def throttle_names(mask: int) -> list[str]:
    """The names of the reasons set in an NVML clock-event mask (unknown bits as hex)."""
    names = [name for bit, name in THROTTLE_REASONS.items() if mask & bit]
    unknown = mask & ~sum(THROTTLE_REASONS)
    if unknown:
        names.append(f"unknown_0x{unknown:x}")
    return names


@dataclass(frozen=True)
class GpuDevice:
    """One GPU. A value the source could not give is None (never guessed)."""

    index: int
    name: str
    uuid: str = ""
    memory_total_bytes: int | None = None
    memory_used_bytes: int | None = None
    utilization_percent: float | None = None
    temperature_c: float | None = None
    slowdown_temperature_c: float | None = None
    power_w: float | None = None
    power_limit_w: float | None = None
    ecc_uncorrected_volatile: int | None = None
    ecc_uncorrected_aggregate: int | None = None
    retired_pages_double_bit: int | None = None
    remapped_rows_uncorrectable: int | None = None
    remapping_failed: bool | None = None
    throttle_reasons: tuple[str, ...] | None = None  # active clock-event reasons; None: the source gave none

    @property
    def label(self) -> str:
        """How the evidence names this GPU: `GPU 0 (NVIDIA A100 ...)`."""
        return f"GPU {self.index} ({self.name})"

    @property
    def memory_used_fraction(self) -> float | None:
        """Memory used / memory total, None when either is unknown."""
        if not self.memory_total_bytes or self.memory_used_bytes is None:
            return None
        return self.memory_used_bytes / self.memory_total_bytes

    @property
    def temperature_margin_c(self) -> float | None:
        """Slowdown threshold − current temperature (°C), None when either is unknown."""
        if self.temperature_c is None or self.slowdown_temperature_c is None:
            return None
        return self.slowdown_temperature_c - self.temperature_c

    @property
    def uncorrectable_errors(self) -> dict[str, int]:
        """Every uncorrectable-error counter the source gave, by name (the remapping failure as 0/1)."""
        counters = {"ecc_uncorrected_volatile": self.ecc_uncorrected_volatile,
                    "ecc_uncorrected_aggregate": self.ecc_uncorrected_aggregate,
                    "retired_pages_double_bit": self.retired_pages_double_bit,
                    "remapped_rows_uncorrectable": self.remapped_rows_uncorrectable,
                    "remapping_failed": None if self.remapping_failed is None else int(self.remapping_failed)}
        return {name: int(value) for name, value in counters.items() if value is not None}

    @property
    def hardware_slowdowns(self) -> list[str]:
        """The active throttle reasons that are hardware slowdowns."""
        return [reason for reason in self.throttle_reasons or () if reason in HARDWARE_SLOWDOWNS]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GpuDevice:
        """A device from its JSON view (unknown keys are refused: a misspelt field must not pass silently)."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown GPU fields {unknown}; known: {sorted(known)}")
        values = dict(data)
        reasons = values.get("throttle_reasons")
        values["throttle_reasons"] = None if reasons is None else tuple(reasons)
        return cls(**values)


@dataclass(frozen=True)
class GpuSnapshot:
    """Every GPU the source sees, with the driver and CUDA versions, read at `read_at` (UNIX seconds)."""

    source: str
    devices: tuple[GpuDevice, ...]
    driver_version: str = ""
    cuda_version: str = ""
    read_at: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)  # what the source could not read, and why

    def as_dict(self) -> dict[str, Any]:
        """The JSON view (also the expected answer of a gateway's `GET /health/gpu`)."""
        data = asdict(self)
        data["devices"] = [asdict(d) | {"throttle_reasons": None if d.throttle_reasons is None else list(d.throttle_reasons)}
                           for d in self.devices]
        data["notes"] = list(self.notes)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | None = None) -> GpuSnapshot:
        """A snapshot from its JSON view; `source` replaces the recorded one when given."""
        devices = data.get("devices", data.get("gpus"))
        if not isinstance(devices, list):
            raise ValueError("a GPU snapshot needs a list of devices under 'devices'")
        return cls(source=source or str(data.get("source", "recorded")),
                   devices=tuple(GpuDevice.from_dict(d) for d in devices),
                   driver_version=str(data.get("driver_version", "")), cuda_version=str(data.get("cuda_version", "")),
                   read_at=float(data.get("read_at", 0.0)), notes=tuple(data.get("notes", ())))

    @classmethod
    def load(cls, path: str | Path) -> GpuSnapshot:
        """A recorded snapshot (JSON file)."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def facts(self) -> dict[str, str]:
        """The GPU facts for environment.properties: source, count, driver, CUDA, each model and its memory."""
        props = {"gpu.source": self.source, "gpu.count": str(len(self.devices)),
                 "gpu.driver": self.driver_version or "unknown", "gpu.cuda": self.cuda_version or "unknown"}
        for device in self.devices:
            memory = f", {device.memory_total_bytes / 2**30:.1f} GiB" if device.memory_total_bytes else ""
            props[f"gpu.{device.index}"] = f"{device.name}{memory}"
        return props
