"""Latency and rate metrics over request records, exactly as DESIGN.md's glossary defines them.

Percentiles are nearest-rank over every sample of the measurement window and always carry n. A
request that lacks a term of a metric (no usage, no content chunk) gives no sample for it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from citadel_acceptance.load.records import RequestRecord

FORMULAS: dict[str, str] = {
    "ttft": "TTFT = first streamed chunk carrying content − request sent (successful requests)",
    "e2e": "E2E = last byte − request sent (successful requests)",
    "e2e_from_scheduled": "E2E from schedule = last byte − scheduled send time (coordinated omission shown)",
    "schedule_lag": "schedule lag = request sent − scheduled send time",
    "tpot": "TPOT = (E2E − TTFT) / (output tokens − 1), output tokens from the server's usage",
    "itl": "ITL = every gap between consecutive content chunks, pooled over requests",
    "throughput": "throughput = successful requests of the window / window seconds",
    "goodput": "goodput = successful requests of the window that met every latency target / window seconds",
    "error_rate": "error rate = (non-2xx + broken streams + timeouts) / all requests sent in the window",
    "percentile": "nearest-rank: the ceil(p/100 × n)-th smallest of the n samples of the window",
    "window": "window = from the end of the warm-up to the last byte of the last measured request",
}

DEFAULT_PERCENTILES: tuple[float, ...] = (50, 90, 95, 99)


@dataclass(frozen=True)
class Percentile:
    """A nearest-rank percentile with the number of samples it was taken from (value None if n = 0)."""

    value: float | None
    n: int
    p: float

    def __str__(self) -> str:
        shown = "n/a" if self.value is None else f"{self.value * 1000:.2f} ms"
        return f"p{self.p:g} = {shown} (n={self.n})"


def nearest_rank(samples: Iterable[float], p: float) -> Percentile:
    """The p-th percentile by nearest rank: the ceil(p/100·n)-th smallest sample (the smallest for p = 0)."""
    if not 0 <= p <= 100:
        raise ValueError(f"a percentile must be within 0..100, got {p}")
    ordered = sorted(samples)
    n = len(ordered)
    if n == 0:
        return Percentile(None, 0, p)
    rank = max(1, math.ceil(p / 100 * n))
    return Percentile(ordered[rank - 1], n, p)


@dataclass(frozen=True)
class Distribution:
    """The samples of one metric over the window, with its formula."""

    name: str
    formula: str
    samples: tuple[float, ...]

    @property
    def n(self) -> int:
        """The number of samples."""
        return len(self.samples)

    def percentile(self, p: float) -> Percentile:
        """The nearest-rank p-th percentile, with n."""
        return nearest_rank(self.samples, p)

    @property
    def mean(self) -> float | None:
        """The arithmetic mean, None without samples."""
        return sum(self.samples) / self.n if self.samples else None

    @property
    def max(self) -> float | None:
        """The largest sample, None without samples."""
        return max(self.samples) if self.samples else None

    def as_dict(self, percentiles: Sequence[float] = DEFAULT_PERCENTILES) -> dict[str, Any]:
        """A JSON-ready view: n, mean, max and the percentiles, in seconds."""
        view: dict[str, Any] = {"n": self.n, "formula": self.formula, "mean_s": self.mean, "max_s": self.max}
        for p in percentiles:
            view[f"p{p:g}_s"] = self.percentile(p).value
        return view


@dataclass(frozen=True)
class LatencyTargets:
    """The latency targets a request must all meet to count toward goodput (seconds; None = no target).

    A request without a value for a targeted metric (no usage for TPOT, say) did not show that it met
    it, so it does not count.
    """

    ttft_s: float | None = None
    e2e_s: float | None = None
    e2e_from_scheduled_s: float | None = None
    tpot_s: float | None = None

    def met_by(self, record: RequestRecord) -> bool:
        """Whether the request succeeded and met every target given."""
        if not record.ok:
            return False
        for target, value in ((self.ttft_s, record.ttft), (self.e2e_s, record.e2e),
                              (self.e2e_from_scheduled_s, record.e2e_from_scheduled), (self.tpot_s, record.tpot)):
            if target is not None and (value is None or value > target):
                return False
        return True

    def describe(self) -> str:
        """The targets in words, for the evidence."""
        parts = [f"{name} ≤ {value * 1000:g} ms" for name, value in
                 (("TTFT", self.ttft_s), ("E2E", self.e2e_s), ("E2E from schedule", self.e2e_from_scheduled_s),
                  ("TPOT", self.tpot_s)) if value is not None]
        return ", ".join(parts) or "no latency target"


def _samples(records: Iterable[RequestRecord], metric: Callable[[RequestRecord], float | None]) -> tuple[float, ...]:
    return tuple(v for v in (metric(r) for r in records) if v is not None)


@dataclass(frozen=True)
class LoadSummary:
    """Every metric of one run's measurement window, each with its formula (`FORMULAS`)."""

    window_start: float
    window_end: float
    sent: int
    succeeded: int
    errors: int
    met_targets: int
    targets: LatencyTargets
    ttft: Distribution
    e2e: Distribution
    e2e_from_scheduled: Distribution
    schedule_lag: Distribution
    tpot: Distribution
    itl: Distribution
    error_kinds: dict[str, int] = field(default_factory=dict)
    # successful answers whose first content chunk shared a read with later bytes: their TTFT is an upper bound
    ttft_uncertain: int = 0
    formulas: dict[str, str] = field(default_factory=lambda: dict(FORMULAS))

    @property
    def window_s(self) -> float:
        """The length of the measurement window in seconds."""
        return max(0.0, self.window_end - self.window_start)

    @property
    def throughput(self) -> float:
        """Successful requests of the window per second of the window."""
        return self.succeeded / self.window_s if self.window_s > 0 else 0.0

    @property
    def goodput(self) -> float:
        """Requests per second of the window that succeeded and met every latency target."""
        return self.met_targets / self.window_s if self.window_s > 0 else 0.0

    @property
    def error_rate(self) -> float:
        """Errors (non-2xx, broken streams, timeouts) over all requests sent in the window."""
        return self.errors / self.sent if self.sent else 0.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view for the evidence, formulas included."""
        return {
            "window_start_s": self.window_start, "window_end_s": self.window_end, "window_s": self.window_s,
            "sent": self.sent, "succeeded": self.succeeded, "errors": self.errors, "error_rate": self.error_rate,
            "error_kinds": dict(self.error_kinds), "throughput_rps": self.throughput, "goodput_rps": self.goodput,
            "targets": self.targets.describe(), "met_targets": self.met_targets,
            "ttft": self.ttft.as_dict(), "ttft_uncertain": self.ttft_uncertain, "e2e": self.e2e.as_dict(),
            "e2e_from_scheduled": self.e2e_from_scheduled.as_dict(),
            "schedule_lag": self.schedule_lag.as_dict(), "tpot": self.tpot.as_dict(), "itl": self.itl.as_dict(),
            "formulas": dict(self.formulas),
        }


def _error_kind(error: str) -> str:
    return error.split(":", 1)[0].strip() or "error"


def summarize(records: Sequence[RequestRecord], window_start: float = 0.0, window_end: float | None = None,
              targets: LatencyTargets | None = None) -> LoadSummary:
    """The metrics of the records measured in the window (warm-up records are left out).

    `window_end` defaults to the last byte (or failure) of the last measured request.
    """
    measured = [r for r in records if not r.warmup]
    targets = targets or LatencyTargets()
    if window_end is None:
        ends = [r.end for r in measured if r.end is not None]
        window_end = max(ends) if ends else window_start
    ok = [r for r in measured if r.ok]
    kinds: dict[str, int] = {}
    for r in measured:
        if not r.ok:
            kind = _error_kind(r.error) if r.error else f"HTTP {r.status}"
            kinds[kind] = kinds.get(kind, 0) + 1
    itl = tuple(gap for r in ok for gap in r.itls)
    return LoadSummary(
        window_start=window_start, window_end=window_end, sent=len(measured), succeeded=len(ok),
        errors=len(measured) - len(ok), met_targets=sum(1 for r in measured if targets.met_by(r)), targets=targets,
        ttft=Distribution("ttft", FORMULAS["ttft"], _samples(ok, lambda r: r.ttft)),
        e2e=Distribution("e2e", FORMULAS["e2e"], _samples(ok, lambda r: r.e2e)),
        e2e_from_scheduled=Distribution("e2e_from_scheduled", FORMULAS["e2e_from_scheduled"],
                                        _samples(ok, lambda r: r.e2e_from_scheduled)),
        schedule_lag=Distribution("schedule_lag", FORMULAS["schedule_lag"], _samples(measured, lambda r: r.schedule_lag)),
        tpot=Distribution("tpot", FORMULAS["tpot"], _samples(ok, lambda r: r.tpot)),
        itl=Distribution("itl", FORMULAS["itl"], itl),
        error_kinds=kinds,
        ttft_uncertain=sum(1 for r in ok if r.first_content_uncertain and r.first_content is not None),
    )
