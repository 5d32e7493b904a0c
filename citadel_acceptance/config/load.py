"""How requests are made: the probe question (`[probe]`) and the load runs of SC2 (`[load]`)."""
from __future__ import annotations

from dataclasses import dataclass

from citadel_acceptance.errors import SuiteConfigError

ARRIVALS = ("poisson", "constant")
ENGINES = ("local", "ray")


@dataclass(frozen=True)
class ProbeSettings:
    """The profile's `[probe]`: the question single requests ask, and their answer length."""

    prompt: str
    max_tokens: int


@dataclass(frozen=True)
class Placement:
    """Where a load's workers run: the `[load]` keys `engine`, `workers`, `address` (load/workers.py).

    engine "local": `workers` processes on this host, one per core (0: as many as the load needs, up to the cores
    this process may use; 1: in this process); "ray": `workers` Ray actors (0: as many as the load needs, up to the
    cluster's CPUs) on the cluster at `address` ("": one started on this host for the run). How many a load needs:
    citadel_acceptance/load/workers.py `worker_count`.
    """

    engine: str = "local"
    workers: int = 1
    address: str = ""

    def validate(self) -> None:
        """Raise SuiteConfigError naming the value that cannot place a load."""
        if self.engine not in ENGINES:
            raise SuiteConfigError(f"load.engine must be one of {', '.join(ENGINES)}, not {self.engine!r}")
        if self.workers < 0:
            raise SuiteConfigError(f"load.workers is a count of workers (0: as many as the load needs), "
                                   f"not {self.workers}")
        if self.engine == "local" and self.address:
            raise SuiteConfigError("load.address names a Ray cluster: it needs load.engine = \"ray\"")


@dataclass(frozen=True)
class LoadSettings:
    """The profile's `[load]`: window, warm-up, request shape, normal load, arrivals.

    `prompt` "" means the probe's prompt (the loader fills it in).
    """

    window_s: float = 60.0
    warmup_s: float = 10.0
    max_tokens: int = 64
    prompt: str = ""
    normal_rps: float = 5.0
    normal_capacity_share: float = 0.0  # > 0: the normal load is at most this share of the calibrated capacity
    min_window_requests: int = 0  # > 0: a window lasts long enough to hold this many requests of its rate
    arrivals: str = "poisson"
    seed: int = 2026
    engine: str = "local"
    workers: int = 0
    address: str = ""

    @property
    def placement(self) -> Placement:
        """Where this profile's loads run."""
        return Placement(self.engine, self.workers, self.address)

    def window_at(self, rate: float) -> float:
        """The measurement window of a load at `rate`: window_s, longer where it would hold fewer than
        min_window_requests requests (a slow machine's calibrated rate of 0.1 req/s left a 4 s window empty)."""
        if self.min_window_requests > 0 and rate > 0:
            return max(self.window_s, round(self.min_window_requests / rate, 1))
        return self.window_s

    def validate(self) -> None:
        """Raise SuiteConfigError naming the first value that cannot make a load run."""
        if self.min_window_requests < 0:
            raise SuiteConfigError(f"load.min_window_requests is a count of requests, not {self.min_window_requests}")
        if not 0.0 <= self.normal_capacity_share <= 1.0:
            raise SuiteConfigError(f"load.normal_capacity_share is a share of the calibrated capacity, from 0 to 1, "
                                   f"not {self.normal_capacity_share}")
        self.placement.validate()
        if self.arrivals not in ARRIVALS:
            raise SuiteConfigError(f"load.arrivals must be one of {', '.join(ARRIVALS)}, not {self.arrivals!r}")
