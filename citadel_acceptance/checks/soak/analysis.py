"""From the soak's rows to its measured values: availability, error rate, latency windows, memory fit, restarts.

Times are soak seconds: seconds with the load applied, summed over every start of a resumed run.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

from citadel_acceptance.load import nearest_rank
from citadel_acceptance.checks.soak.checkpoint import Checkpoint, RequestRow, SampleRow
from citadel_acceptance.config.soak import SoakSettings

MB = 10**6
DAY_S = 86400.0
ENDED = "ended"


@dataclass(frozen=True)
class LatencyWindow:
    """One latency window: its span (soak seconds), requests sent, failures, and the p95 of the successes."""

    index: int
    start: float
    end: float
    sent: int
    errors: int
    p95_s: float | None
    n: int

    def describe(self) -> str:
        """`window 2 (60-90 s): p95 412.0 ms (n=30)`."""
        p95 = "n/a" if self.p95_s is None else f"{self.p95_s * 1000:.1f} ms"
        return f"window {self.index + 1} ({self.start:.0f}-{self.end:.0f} s): p95 {p95} (n={self.n})"


@dataclass(frozen=True)
class MemoryFit:
    """A least-squares line through the gateway's resident memory (bytes) over soak seconds."""

    n: int
    slope_bytes_per_s: float
    intercept: float
    t_first: float
    t_last: float
    first_bytes: float
    last_bytes: float

    @property
    def slope_mb_per_h(self) -> float:
        """The slope in MB (10^6 bytes) per hour."""
        return self.slope_bytes_per_s * 3600 / MB

    @property
    def forecast_24h_mb(self) -> float:
        """The fitted memory 24 hours after the last sample, in MB."""
        return (self.intercept + self.slope_bytes_per_s * (self.t_last + DAY_S)) / MB


def fit_line(points: Sequence[tuple[float, float]]) -> tuple[float, float] | None:
    """(slope, intercept) of the least-squares line through the points; None with fewer than 2 distinct x."""
    n = len(points)
    if n < 2:
        return None
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx
    return slope, mean_y - slope * mean_x


def latency_windows(rows: Sequence[RequestRow], start: float, end: float, window_s: float) -> list[LatencyWindow]:
    """Equal windows covering [start, end): as many as fit `window_s` (at least 2), p95 of successful E2E each."""
    span = end - start
    if span <= 0:
        return []
    count = max(2, math.floor(span / window_s))
    width = span / count
    windows = []
    for index in range(count):
        lo, hi = start + index * width, start + (index + 1) * width
        inside = [r for r in rows if lo <= r.t < hi or (index == count - 1 and r.t == hi)]
        p95 = nearest_rank([r.e2e_s for r in inside if r.ok and r.e2e_s is not None], 95)
        windows.append(LatencyWindow(index=index, start=lo, end=hi, sent=len(inside),
                                     errors=sum(1 for r in inside if not r.ok), p95_s=p95.value, n=p95.n))
    return windows


@dataclass(frozen=True)
class SoakResult:
    """Every measured value of one stability run (complete or not)."""

    run_id: str
    complete: bool
    status: str
    elapsed_s: float
    duration_s: float
    requests: int
    failed: int
    error_kinds: dict[str, int]
    samples: int
    healthy_samples: int
    unhealthy: list[str]
    windows: list[LatencyWindow]
    memory: MemoryFit | None
    events: list[str]
    starts: int
    interruptions: list[dict[str, Any]]
    memory_unavailable: str = ""
    restarts_unavailable: str = ""
    db_connections_max: int | None = None
    gpu_memory_max_bytes: float | None = None
    gpu_temperature_max_c: float | None = None
    sample_gaps: list[tuple[float, float]] = field(default_factory=list)  # (from, to) soak seconds without a sample
    gap_allowed_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_h(self) -> float:
        """Soak hours completed."""
        return self.elapsed_s / 3600

    @property
    def availability_percent(self) -> float | None:
        """Healthy health checks / all health checks × 100."""
        return 100.0 * self.healthy_samples / self.samples if self.samples else None

    @property
    def error_rate_percent(self) -> float | None:
        """Failed requests / all requests × 100."""
        return 100.0 * self.failed / self.requests if self.requests else None

    @property
    def measured_windows(self) -> list[LatencyWindow]:
        """The windows that have a p95."""
        return [w for w in self.windows if w.p95_s is not None]

    @property
    def drift_ratio(self) -> float | None:
        """p95 of the last window / p95 of the first (windows with successful requests)."""
        measured = self.measured_windows
        if len(measured) < 2 or not measured[0].p95_s:
            return None
        return measured[-1].p95_s / measured[0].p95_s

    @property
    def restarts(self) -> int:
        """Processes of the parts that ended (crashed, stopped or were replaced) during the run."""
        return sum(1 for event in self.events if f" {ENDED}" in event)

    def summary(self) -> dict[str, Any]:
        """The measured values, JSON-ready (for the report and the progress line)."""
        return {
            "run_id": self.run_id, "status": self.status, "elapsed_s": round(self.elapsed_s, 1),
            "duration_s": self.duration_s, "duration_h": round(self.duration_h, 4), "requests": self.requests,
            "failed": self.failed, "error_kinds": self.error_kinds, "error_rate_percent": self.error_rate_percent,
            "health_checks": self.samples, "healthy_checks": self.healthy_samples,
            "availability_percent": self.availability_percent, "unhealthy_checks": self.unhealthy[:50],
            "sample_gaps_s": self.sample_gaps[:50], "sample_gap_allowed_s": self.gap_allowed_s,
            "windows": [w.__dict__ for w in self.windows], "drift_ratio": self.drift_ratio,
            "memory_slope_mb_per_h": self.memory.slope_mb_per_h if self.memory else None,
            "memory_forecast_24h_mb": self.memory.forecast_24h_mb if self.memory else None,
            "memory_first_mb": self.memory.first_bytes / MB if self.memory else None,
            "memory_last_mb": self.memory.last_bytes / MB if self.memory else None,
            "memory_unavailable": self.memory_unavailable, "process_events": self.events,
            "unplanned_restarts": self.restarts, "restarts_unavailable": self.restarts_unavailable,
            "starts": self.starts, "interruptions": self.interruptions,
            "db_connections_max": self.db_connections_max, "gpu_memory_max_bytes": self.gpu_memory_max_bytes,
            "gpu_temperature_max_c": self.gpu_temperature_max_c,
        }


def _kind(error: str, status: int | None) -> str:
    return (error.split(":", 1)[0].strip() or "error") if error else f"HTTP {status}"


SAMPLE_READ_ALLOWANCE_S = 20.0  # one sample's reads may take this long (health and /metrics, 10 s timeout each)


def allowed_gap_s(interval_s: float) -> float:
    """The longest stretch without a sample that still counts as covered: three intervals and one slow read."""
    return 3 * interval_s + SAMPLE_READ_ALLOWANCE_S


def coverage_gaps(times: Sequence[float], start: float, end: float, allowed_s: float) -> list[tuple[float, float]]:
    """The stretches of [start, end] longer than `allowed_s` with no sample (a sampler that died leaves one to the end)."""
    edges = [start, *sorted(t for t in times if start <= t <= end), end]
    return [(round(a, 1), round(b, 1)) for a, b in zip(edges, edges[1:]) if b - a > allowed_s]


def analyse(checkpoint: Checkpoint, settings: SoakSettings, requests: Sequence[RequestRow],
            samples: Sequence[SampleRow], memory_unavailable: str = "", restarts_unavailable: str = "") -> SoakResult:
    """The measured values of a run from its checkpoint and rows."""
    kinds: dict[str, int] = {}
    for row in requests:
        if not row.ok:
            kinds[_kind(row.error, row.status)] = kinds.get(_kind(row.error, row.status), 0) + 1
    end = max([checkpoint.elapsed_s] + [r.t for r in requests])
    windows = latency_windows(requests, settings.warmup_s, end, settings.window_s)
    points = [(s.t, s.rss_bytes) for s in samples if s.rss_bytes is not None and s.t >= settings.warmup_s]
    fitted = fit_line(points)
    memory = MemoryFit(n=len(points), slope_bytes_per_s=fitted[0], intercept=fitted[1], t_first=points[0][0],
                       t_last=points[-1][0], first_bytes=points[0][1], last_bytes=points[-1][1]) if fitted else None
    connections = [s.db_connections for s in samples if s.db_connections is not None]
    gpu_memory = [s.gpu_memory_used_bytes for s in samples if s.gpu_memory_used_bytes is not None]
    gpu_temperature = [s.gpu_temperature_c for s in samples if s.gpu_temperature_c is not None]
    return SoakResult(
        run_id=checkpoint.run_id, complete=checkpoint.complete, status=checkpoint.status,
        elapsed_s=checkpoint.elapsed_s, duration_s=settings.duration_s, requests=len(requests),
        failed=sum(1 for r in requests if not r.ok), error_kinds=kinds, samples=len(samples),
        healthy_samples=sum(1 for s in samples if s.healthy),
        unhealthy=[f"{s.t:.0f} s: {s.health}" for s in samples if not s.healthy], windows=windows, memory=memory,
        events=list(checkpoint.events), starts=len(checkpoint.starts), interruptions=list(checkpoint.interruptions),
        memory_unavailable=memory_unavailable if memory is None else "",
        restarts_unavailable=restarts_unavailable, db_connections_max=max(connections) if connections else None,
        gpu_memory_max_bytes=max(gpu_memory) if gpu_memory else None,
        gpu_temperature_max_c=max(gpu_temperature) if gpu_temperature else None,
        sample_gaps=coverage_gaps([s.t for s in samples], 0.0, checkpoint.elapsed_s, allowed_gap_s(settings.interval_s)),
        gap_allowed_s=allowed_gap_s(settings.interval_s),
    )
