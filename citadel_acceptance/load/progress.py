"""What a running load shows every few seconds: sent, completed, errors, rate, p95 so far."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable

from citadel_acceptance.load.metrics import Percentile


@dataclass(frozen=True)
class ProgressSnapshot:
    """The state of a run at `elapsed_s` run seconds."""

    elapsed_s: float
    sent: int
    completed: int
    errors: int
    rate_rps: float  # requests completed per second since the previous snapshot
    p95_e2e: Percentile  # over the successful requests completed so far (warm-up included)

    def line(self) -> str:
        """One human line, as printed by `stderr_progress`."""
        return (f"load {self.elapsed_s:6.1f} s: sent {self.sent}, completed {self.completed}, errors {self.errors}, "
                f"{self.rate_rps:.1f} req/s, E2E {self.p95_e2e}")


ProgressSink = Callable[[ProgressSnapshot], None]


def stderr_progress(snapshot: ProgressSnapshot) -> None:
    """The default sink: one line on stderr."""
    print(snapshot.line(), file=sys.stderr, flush=True)


def no_progress(snapshot: ProgressSnapshot) -> None:
    """A sink that shows nothing."""
