"""What a running load shows every few seconds: sent, completed, errors, rate, p95 so far, schedule lag p99;
with several workers, the same per worker, so that a saturated worker (its lag climbing) is visible."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable

from citadel_acceptance.load.metrics import Percentile


@dataclass(frozen=True)
class ProgressSnapshot:
    """The state of a run (or of one worker's part: `worker` its rank) at `elapsed_s` run seconds."""

    elapsed_s: float
    sent: int
    completed: int
    errors: int
    rate_rps: float  # requests completed per second since the previous snapshot
    p95_e2e: Percentile  # over the successful requests completed so far (warm-up included)
    lag_p99: Percentile | None = None  # schedule lag (sent − scheduled) of the requests sent so far
    worker: int | None = None  # the worker's rank; None: the whole run
    workers: tuple["ProgressSnapshot", ...] = ()  # the whole run's: each worker's latest snapshot

    def line(self) -> str:
        """One human line, as printed by `stderr_progress` (then one indented line per worker)."""
        who = "load" if self.worker is None else f"  worker {self.worker}"
        worst = " (worst worker)" if self.workers else ""
        lag = f", lag{worst} {self.lag_p99}" if self.lag_p99 is not None else ""
        head = (f"{who} {self.elapsed_s:6.1f} s: sent {self.sent}, completed {self.completed}, errors {self.errors}, "
                f"{self.rate_rps:.1f} req/s, E2E{worst} {self.p95_e2e}{lag}")
        return "\n".join([head, *(w.line() for w in self.workers)])


ProgressSink = Callable[[ProgressSnapshot], None]


def stderr_progress(snapshot: ProgressSnapshot) -> None:
    """The default sink: one line on stderr (and one per worker)."""
    print(snapshot.line(), file=sys.stderr, flush=True)


def no_progress(snapshot: ProgressSnapshot) -> None:
    """A sink that shows nothing."""


def combined(latest: dict[int, ProgressSnapshot]) -> ProgressSnapshot:
    """The whole run from each worker's latest snapshot: counts and rates added; the worst worker's p95 and lag
    (a percentile of the union is not known from the parts: the worst part is an upper bound of it)."""
    parts = tuple(latest[rank] for rank in sorted(latest))

    def worst(values: list[Percentile | None]) -> Percentile | None:
        known = [v for v in values if v is not None and v.value is not None]
        return max(known, key=lambda v: v.value or 0.0) if known else next((v for v in values if v is not None), None)

    p95 = worst([p.p95_e2e for p in parts]) or Percentile(None, 0, 95)
    return ProgressSnapshot(elapsed_s=max((p.elapsed_s for p in parts), default=0.0), sent=sum(p.sent for p in parts),
                            completed=sum(p.completed for p in parts), errors=sum(p.errors for p in parts),
                            rate_rps=sum(p.rate_rps for p in parts), p95_e2e=p95,
                            lag_p99=worst([p.lag_p99 for p in parts]), workers=parts)
