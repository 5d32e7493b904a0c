"""Percentiles with a stated confidence: distribution-free upper bounds from order statistics.

A p95 of twelve samples is a guess: the true 95th percentile of the server's latency may lie well above it.
As MLCommons LoadGen does for its early stopping, a percentile gate judges instead the smallest order statistic
that bounds the true quantile from above at the stated confidence. With n samples and q = p/100, the k-th
smallest sample lies at or above the true q-quantile unless k or more samples fell below it; the number below
is Binomial(n, q), so X(k) is an upper bound at confidence c when P(Binomial(n, q) <= k - 1) >= c. The smallest
such k is the bound's rank. No k qualifies when even the largest sample does not (1 - q^n < c): then the window
is too small to say anything at that confidence (p95 at 95 % needs n >= 59; p99 at 99 %, n >= 459).

A confidence of 0 states none: the value is the nearest-rank percentile of the samples, as before.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

from citadel_acceptance.config.thresholds import confidence_problem
from citadel_acceptance.load.metrics import nearest_rank

NO_CONFIDENCE = 0.0  # the nearest-rank point estimate, no bound


def samples_needed(p: float, confidence: float) -> int:
    """The fewest samples for which the largest bounds the p-th percentile at `confidence` (1 for none)."""
    if confidence == NO_CONFIDENCE:
        return 1
    q = _quantile(p)
    return math.ceil(math.log(1 - confidence) / math.log(q) - 1e-9)


def bounding_rank(n: int, p: float, confidence: float) -> int | None:
    """The smallest rank k (1-based) with P(Binomial(n, p/100) <= k - 1) >= confidence; None when none of n do."""
    if n <= 0:
        return None
    q = _quantile(p)
    # the binomial pmf term by term in logarithms (no factorial overflows), cumulated until it reaches `confidence`
    log_term, log_ratio = n * math.log1p(-q), math.log(q) - math.log1p(-q)
    cumulative = 0.0
    for below in range(n):  # `below` samples under the true quantile: X(below + 1) bounds it
        cumulative += math.exp(log_term)
        if cumulative >= confidence:
            return below + 1
        log_term += math.log(n - below) - math.log(below + 1) + log_ratio
    return None


@dataclass(frozen=True)
class PercentileBound:
    """What n samples say about the p-th percentile at a confidence: the bound (None when n is too small)."""

    p: float
    confidence: float
    n: int
    estimate: float | None  # the nearest-rank percentile of the samples
    value: float | None  # the upper bound at `confidence` (the estimate for no confidence); None without one
    rank: int | None  # the bound's order statistic, 1-based
    needed: int  # the fewest samples that give a bound at this confidence

    @property
    def stated(self) -> bool:
        """Whether a confidence is stated (else the value is the nearest-rank estimate)."""
        return self.confidence != NO_CONFIDENCE

    @property
    def method(self) -> str:
        """How the judged value is taken, for a formula."""
        if not self.stated:
            return f"nearest-rank p{self.p:g} (no confidence stated)"
        return (f"upper bound of p{self.p:g} at {self.confidence * 100:g} % confidence: the smallest order "
                f"statistic k with P(Binomial(n, {self.p / 100:g}) <= k - 1) >= {self.confidence:g}")

    def describe(self, scale: float = 1.0, unit: str = "") -> str:
        """One clause for a verdict: how the value was taken, from how many samples."""
        def shown(x: float | None) -> str:
            return "n/a" if x is None else f"{round(x * scale, 2):g}{' ' + unit if unit else ''}"
        if not self.stated:
            return f"nearest-rank p{self.p:g} of n={self.n}, no confidence stated"
        if self.value is None:
            return (f"n={self.n} cannot bound p{self.p:g} at {self.confidence * 100:g} % confidence: it needs n >= "
                    f"{self.needed} (the nearest-rank estimate {shown(self.estimate)} is not judged)")
        return (f"upper bound of p{self.p:g} at {self.confidence * 100:g} % confidence: sample {self.rank} of "
                f"n={self.n} in order; the nearest-rank p{self.p:g} is {shown(self.estimate)}")


def upper_bound(samples: Iterable[float], p: float, confidence: float) -> PercentileBound:
    """The bound of the p-th percentile of `samples` at `confidence` (see the module's docstring)."""
    problem = confidence_problem(confidence)
    if problem:
        raise ValueError(problem)
    _quantile(p)  # 0 < p < 100
    ordered = sorted(samples)
    n = len(ordered)
    estimate = nearest_rank(ordered, p)
    if confidence == NO_CONFIDENCE:
        rank = max(1, math.ceil(p / 100 * n)) if n else None
        return PercentileBound(p, confidence, n, estimate.value, estimate.value, rank, 1)
    rank = bounding_rank(n, p, confidence)
    return PercentileBound(p, confidence, n, estimate.value, ordered[rank - 1] if rank else None, rank,
                           samples_needed(p, confidence))


def _quantile(p: float) -> float:
    if not 0 < p < 100:
        raise ValueError(f"a percentile bound needs 0 < p < 100, got {p}")
    return p / 100
