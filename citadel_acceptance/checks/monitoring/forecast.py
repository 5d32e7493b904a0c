"""The suite's own forecast: a least-squares line through sampled usage, and when it meets the capacity.

Time to exhaustion = (capacity − fitted usage now) / slope, for a rising slope; a flat or falling
series never runs out (infinite time). The plot shows the samples, the fitted line extended to the
horizon, and the capacity.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence


@dataclass(frozen=True)
class Line:
    """value = intercept + slope × t (t in seconds since the first sample)."""

    slope: float
    intercept: float

    def at(self, t: float) -> float:
        """The line's value at t."""
        return self.intercept + self.slope * t


def fit_line(times: Sequence[float], values: Sequence[float]) -> Line:
    """Ordinary least squares; needs at least two distinct times."""
    n = len(times)
    if n < 2 or len(values) != n:
        raise ValueError(f"a line needs at least two samples, got {n}")
    t0 = times[0]
    xs = [t - t0 for t in times]
    mean_x, mean_y = sum(xs) / n, sum(values) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    if sxx == 0:
        raise ValueError("a line needs samples at two different times at least")
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, values)) / sxx
    return Line(slope=slope, intercept=mean_y - slope * mean_x)


@dataclass
class SeriesForecast:
    """One resource of one instance: its samples, its capacity, the fitted line and the time to exhaustion."""

    resource: str  # memory / disk
    used_metric: str
    capacity_metric: str
    labels: dict[str, str]
    times: list[float]  # unix seconds
    values: list[float]
    capacity: float
    line: Line | None = None
    exhaustion_s: float = math.inf  # from the last sample
    notes: list[str] = field(default_factory=list)

    @classmethod
    def fitted(cls, resource: str, used_metric: str, capacity_metric: str, labels: dict[str, str],
               times: list[float], values: list[float], capacity: float) -> SeriesForecast:
        """Fit the line and compute the time until it reaches the capacity."""
        forecast = cls(resource, used_metric, capacity_metric, labels, times, values, capacity)
        forecast.line = fit_line(times, values)
        now = times[-1] - times[0]
        headroom = capacity - forecast.line.at(now)
        if headroom <= 0:
            forecast.exhaustion_s = 0.0
            forecast.notes.append("the fitted usage already reaches the capacity")
        elif forecast.line.slope > 0:
            forecast.exhaustion_s = headroom / forecast.line.slope
        return forecast

    @property
    def exhaustion_h(self) -> float:
        """Hours until the fitted line meets the capacity (inf when it never does)."""
        return self.exhaustion_s / 3600

    @property
    def name(self) -> str:
        """`memory of 127.0.0.1:8000`."""
        where = self.labels.get("instance") or ", ".join(f"{k}={v}" for k, v in sorted(self.labels.items()))
        return f"{self.resource} of {where}" if where else self.resource

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the samples are attached separately)."""
        return {"resource": self.resource, "used_metric": self.used_metric, "capacity_metric": self.capacity_metric,
                "labels": self.labels, "samples": len(self.values),
                "window_s": round(self.times[-1] - self.times[0], 1) if self.times else 0,
                "capacity_bytes": self.capacity, "last_bytes": self.values[-1] if self.values else None,
                "slope_bytes_per_s": round(self.line.slope, 3) if self.line else None,
                "time_to_exhaustion_h": "never (flat or falling)" if math.isinf(self.exhaustion_h)
                else round(self.exhaustion_h, 3), "notes": self.notes}

    def sample_rows(self) -> list[dict[str, Any]]:
        """One row per sample, with the fitted value."""
        t0 = self.times[0] if self.times else 0.0
        return [{"series": self.name, "time": t, "value": v,
                 "fitted": round(self.line.at(t - t0), 1) if self.line else ""}
                for t, v in zip(self.times, self.values)]


def forecast_png(forecasts: Sequence[SeriesForecast], horizons_h: Mapping[str, float]) -> bytes:
    """Samples, fitted line extended to the resource's horizon, and capacity: one panel per series, in GiB."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = max(1, len(forecasts))
    figure, axes = plt.subplots(panels, 1, figsize=(8, 3.2 * panels), squeeze=False)
    gib = 1024 ** 3
    for axis, forecast in zip(axes[:, 0], forecasts):
        t0 = forecast.times[0]
        xs = [(t - t0) / 60 for t in forecast.times]
        axis.plot(xs, [v / gib for v in forecast.values], ".", label=f"{forecast.used_metric} (samples)")
        horizon_h = horizons_h.get(forecast.resource, 1.0)
        if forecast.line is not None:
            end_s = (forecast.times[-1] - t0) + horizon_h * 3600
            axis.plot([0, end_s / 60], [forecast.line.at(0) / gib, forecast.line.at(end_s) / gib], "-",
                      label=f"fitted line to the horizon ({horizon_h:g} h)")
            axis.axhline(forecast.capacity / gib, color="red", linestyle="--", label=f"{forecast.capacity_metric}")
        tte = "never" if math.isinf(forecast.exhaustion_h) else f"{forecast.exhaustion_h:.2f} h"
        axis.set_title(f"{forecast.name}: time to exhaustion {tte}")
        axis.set_xlabel("minutes since the first sample")
        axis.set_ylabel("GiB")
        axis.legend(fontsize="small")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return buffer.getvalue()
