"""Percentile gates state their confidence (issue 16, route 12): the upper bound of the p95 from order statistics.

A p95 of 12 samples said nothing of how far the true 95th percentile might lie above it. At the plan's 95 %
confidence a gate judges the smallest order statistic that bounds the p95 at that confidence, fails with the
count it would need when the window is too small, and the embedded profile's 0 (none stated) is listed as relaxed.
"""
from __future__ import annotations

import math
import random
import re
from pathlib import Path

import pytest

from citadel_acceptance.checks.percentiles import percentile_verdict
from citadel_acceptance.config.profile import load_profile
from citadel_acceptance.config.thresholds import Thresholds
from citadel_acceptance.errors import SuiteConfigError
from citadel_acceptance.load.confidence import bounding_rank, samples_needed, upper_bound

FEATURES = Path(__file__).resolve().parents[2] / "features"
PLAN = Thresholds.from_profile(load_profile("citadel-mvp2"))


def exact_rank(n: int, q: float, confidence: float) -> int | None:
    """The same rank from the binomial distribution written out with exact integers (small n only)."""
    cumulative = 0.0
    for below in range(n):
        cumulative += math.comb(n, below) * q ** below * (1 - q) ** (n - below)
        if cumulative >= confidence:
            return below + 1
    return None


def test_the_samples_a_bound_needs_are_loadgens():
    assert samples_needed(95, 0.95) == 59 and samples_needed(99, 0.99) == 459 and samples_needed(90, 0.9) == 22
    assert bounding_rank(58, 95, 0.95) is None and bounding_rank(59, 95, 0.95) == 59
    assert bounding_rank(458, 99, 0.99) is None and bounding_rank(459, 99, 0.99) == 459


@pytest.mark.parametrize("n", [59, 60, 100, 200, 400])
def test_the_rank_is_the_smallest_that_bounds_the_quantile_at_the_confidence(n):
    assert bounding_rank(n, 95, 0.95) == exact_rank(n, 0.95, 0.95)
    assert bounding_rank(n, 90, 0.99) == exact_rank(n, 0.90, 0.99)


def test_the_bound_lies_above_the_true_p95_at_least_as_often_as_stated():
    rng = random.Random(16)
    trials, covered = 4000, 0
    for _ in range(trials):  # uniform samples: the true p95 is 0.95
        bound = upper_bound([rng.random() for _ in range(100)], 95, 0.95)
        covered += bound.value >= 0.95
    assert covered / trials >= 0.94  # the exact coverage of rank 99 of 100 is 0.963


def test_too_few_samples_fail_and_say_how_many_it_takes():
    gate = PLAN.resolve("vector.search_ms", spec=150)
    verdict = percentile_verdict(gate, [10.0] * 20, 0.95, "similarity search p95", "p95 of round trips")
    assert not verdict.passed and verdict.measured is None
    assert "n=20 cannot bound p95 at 95 % confidence: it needs n >= 59" in verdict.explanation
    assert verdict.details["needed"] == 59


def test_a_window_whose_tail_is_slow_fails_at_95_percent_where_its_nearest_rank_p95_passes():
    gate = PLAN.resolve("vector.search_ms", spec=150)
    samples = [100.0] * 57 + [400.0] * 3  # nearest-rank p95 (57th of 60) is 100 ms; the bound is the 60th
    point = percentile_verdict(gate, samples, 0, "similarity search p95", "p95")
    bounded = percentile_verdict(gate, samples, 0.95, "similarity search p95", "p95")
    assert point.passed and "no confidence stated" in point.explanation
    assert not bounded.passed and bounded.measured == 400.0 and bounded.details["rank"] == 60
    assert "upper bound of p95 at 95 % confidence: sample 60 of n=60 in order" in bounded.explanation
    fast = percentile_verdict(gate, [100.0] * 60, 0.95, "similarity search p95", "p95")
    assert fast.passed


def test_the_plan_states_95_percent_and_the_embedded_profile_relaxes_it_with_its_reason():
    assert PLAN.confidence() == 0.95 and not PLAN.relaxed()
    embedded = Thresholds.from_profile(load_profile("embedded"))
    assert embedded.confidence() == 0
    relaxed = {g.key: g for g in embedded.relaxed()}
    assert "percentile.confidence" in relaxed and "59 samples" in relaxed["percentile.confidence"].reason


@pytest.mark.parametrize("value", ["1", "0.3", "-0.5"])
def test_a_confidence_that_cannot_be_used_is_refused_when_the_profile_loads(value):
    with pytest.raises(SuiteConfigError, match="percentile.confidence: a percentile's confidence must be 0"):
        load_profile("embedded", {"overrides.percentile.confidence.value": value})


def test_the_plans_windows_hold_enough_samples_for_a_p95_at_its_confidence():
    """Every percentile gate of the feature files gets at least 59 samples from the plan profile's numbers."""
    needed = samples_needed(95, PLAN.confidence())
    text = "\n".join((FEATURES / "sc2_performance" / f"{name}.feature").read_text()
                     for name in ("vector_performance", "database_performance"))  # their percentile scenarios
    one_by_one = r"When (\d+) (?:similarity searches are made|texts are embedded) one after"
    sequential = [int(n) for n in re.findall(one_by_one, text)]
    rounds = r"When (\d+) similarity searches are made at once, (\d+) times"
    at_once = [int(a) * int(b) for a, b in re.findall(rounds, text)]
    queries = [int(a) * int(b) for a, b in re.findall(r"from (\d+) connections at once, (\d+) times each", text)]
    assert len(sequential) == 2 and len(at_once) == 1 and len(queries) == 1, "a percentile scenario's sample count moved"
    assert min(sequential + at_once + queries) >= needed
    plan = load_profile("citadel-mvp2")
    slowest = min(PLAN.resolve("throughput.rps", model=m).applied for m in plan.models)
    assert slowest * plan.load.window_s >= needed  # the rated load's window at the slowest model's rate
