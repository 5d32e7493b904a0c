"""Monitoring (SC3): the `[monitoring]` section, its planned metric families and forecast series."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from citadel_acceptance.config.convert import frozen_map, plain
from citadel_acceptance.errors import SuiteConfigError


@dataclass(frozen=True)
class MetricFamily:
    """One `[monitoring.metrics.NAME]`: the planned type, the labels every sample carries, histogram buckets."""

    type: str = ""
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] | None = None  # None: no bucket bounds are planned


@dataclass(frozen=True)
class MonitoringSettings:
    """The profile's `[monitoring]`: the deployment's Prometheus, what it must scrape and evaluate, how the
    SC3 scenarios provoke and watch its alerts, and (`stack_*`) how an embedded stack's Prometheus runs."""

    prometheus_url: str = ""  # "": no Prometheus, scenarios tagged @requires.prometheus are skipped
    timeout_s: float = 10.0
    scrape_jobs: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    error_alert: str = "ModelInferenceErrors"
    anomaly_alert: str = "InferenceLatencyAnomaly"
    metrics: Mapping[str, MetricFamily] = field(default_factory=frozen_map)
    forecast_series: Mapping[str, tuple[str, ...]] = field(default_factory=frozen_map)  # resource -> (used, capacity)
    forecast_window_s: float = 3600.0
    forecast_min_points: int = 10
    error_prompt_words: int = 40000
    error_burst_s: float = 60.0
    error_alert_window_s: float = 240.0
    anomaly_baseline_s: float = 120.0
    anomaly_spike_s: float = 360.0
    anomaly_spike_max_tokens: int = 512
    anomaly_spike_prompt: str = "Write a long story about a lighthouse keeper, at least 500 words."
    anomaly_alert_window_s: float = 600.0
    stack_scrape_interval_s: float = 10.0
    stack_evaluation_interval_s: float = 10.0
    stack_anomaly_window: str = "5m"
    stack_anomaly_baseline: str = "1h"

    def __post_init__(self) -> None:
        object.__setattr__(self, "prometheus_url", self.prometheus_url.rstrip("/"))

    def as_dict(self) -> dict[str, Any]:
        """The section as plain dicts, lists and scalars, keyed as in the profile (what the embedded stack reads)."""
        return plain(self)

    def validate(self) -> None:
        """Raise SuiteConfigError when a forecast series is not a [used, capacity] pair of metric names."""
        for resource, metrics in self.forecast_series.items():
            if len(metrics) != 2:
                raise SuiteConfigError(f"monitoring.forecast_series.{resource} must name two metrics, "
                                       f"[used, capacity], not {list(metrics)!r}")
