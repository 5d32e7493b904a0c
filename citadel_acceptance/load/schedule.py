"""When requests are sent: open loop (constant or seeded Poisson arrivals) or closed loop (N users).

Open-loop schedules are lists of offsets from the run's start, computed before the run so that
sending never drifts: each request is sent at its absolute instant, whatever happened before.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class OpenLoop:
    """Requests arrive at `rate` per second whatever the answers do: constant spacing or Poisson (seeded)."""

    rate: float
    arrivals: Literal["constant", "poisson"] = "constant"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError(f"an open-loop rate must be above 0 requests per second, got {self.rate}")
        if self.arrivals not in ("constant", "poisson"):
            raise ValueError(f"arrivals must be 'constant' or 'poisson', got {self.arrivals!r}")

    def describe(self) -> str:
        """The schedule in words."""
        how = "constant spacing" if self.arrivals == "constant" else f"Poisson arrivals, seed {self.seed}"
        return f"open loop at {self.rate:g} requests/s ({how})"


@dataclass(frozen=True)
class ClosedLoop:
    """`users` concurrent users, each sending its next request as soon as its previous one ends."""

    users: int

    def __post_init__(self) -> None:
        if self.users < 1:
            raise ValueError(f"a closed loop needs at least 1 user, got {self.users}")

    def describe(self) -> str:
        """The schedule in words."""
        return f"closed loop with {self.users} concurrent users"


@dataclass(frozen=True)
class Bounds:
    """What ends a run: whichever comes first of `duration_s` and `max_requests`, warm-up included.

    The warm-up (`warmup_s` seconds or the first `warmup_requests` requests) is sent but left out of
    the measurement window.
    """

    duration_s: float
    max_requests: int
    warmup_s: float = 0.0
    warmup_requests: int = 0

    def __post_init__(self) -> None:
        if self.duration_s <= 0 or self.max_requests < 1:
            raise ValueError(f"a run needs a duration above 0 s and at least 1 request, got "
                             f"{self.duration_s} s and {self.max_requests} requests")
        if self.warmup_s < 0 or self.warmup_requests < 0:
            raise ValueError("a warm-up cannot be negative")
        if self.warmup_s >= self.duration_s or self.warmup_requests >= self.max_requests:
            raise ValueError(f"the warm-up ({self.warmup_s} s, {self.warmup_requests} requests) leaves no "
                             f"measurement window within {self.duration_s} s and {self.max_requests} requests")

    def is_warmup(self, index: int, scheduled: float) -> bool:
        """Whether request number `index` (from 0), scheduled at `scheduled` run seconds, is warm-up."""
        return index < self.warmup_requests or scheduled < self.warmup_s


@dataclass(frozen=True)
class Share:
    """Worker `rank` of `of`: which part of one schedule it sends.

    Open loop: the requests whose index is `rank` modulo `of` (each worker keeps the schedule's spacing at
    rate/of); closed loop: its share of the users, numbering its requests rank, rank + of, ... so that the
    merged records of every worker have unique indices. One worker (`Share()`) sends everything.
    """

    rank: int = 0
    of: int = 1

    def __post_init__(self) -> None:
        if self.of < 1 or not 0 <= self.rank < self.of:
            raise ValueError(f"worker {self.rank} of {self.of} does not exist")

    def takes(self, index: int) -> bool:
        """Whether request `index` of an open-loop schedule is this worker's."""
        return index % self.of == self.rank

    def users(self, total: int) -> int:
        """This worker's users of a closed loop of `total` (the first total % of workers take one more)."""
        return total // self.of + (1 if self.rank < total % self.of else 0)


def constant_offsets(rate: float, bounds: Bounds) -> list[float]:
    """Send instants (run seconds) spaced 1/rate apart from 0, within the duration and request bound."""
    if rate <= 0:
        raise ValueError(f"a rate must be above 0, got {rate}")
    offsets: list[float] = []
    index = 0
    while index < bounds.max_requests:
        at = index / rate
        if at >= bounds.duration_s:
            break
        offsets.append(at)
        index += 1
    return offsets


def poisson_offsets(rate: float, bounds: Bounds, seed: int) -> list[float]:
    """Send instants of a Poisson process of `rate` (exponential gaps, seeded: same seed, same list)."""
    if rate <= 0:
        raise ValueError(f"a rate must be above 0, got {rate}")
    rng = random.Random(seed)
    offsets: list[float] = []
    at = 0.0
    while len(offsets) < bounds.max_requests:
        at += rng.expovariate(rate)
        if at >= bounds.duration_s:
            break
        offsets.append(at)
    return offsets


def open_loop_offsets(schedule: OpenLoop, bounds: Bounds) -> list[float]:
    """The send instants of an open-loop schedule within its bounds."""
    if schedule.arrivals == "poisson":
        return poisson_offsets(schedule.rate, bounds, schedule.seed)
    return constant_offsets(schedule.rate, bounds)
