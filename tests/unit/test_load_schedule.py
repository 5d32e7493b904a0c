"""Open-loop schedules are exact, reproducible and bounded."""
from __future__ import annotations

import pytest

from citadel_acceptance.load import Bounds, ClosedLoop, OpenLoop, constant_offsets, open_loop_offsets, poisson_offsets


def test_constant_rate_offsets_are_evenly_spaced_from_zero():
    offsets = constant_offsets(4.0, Bounds(duration_s=2.0, max_requests=100))
    assert offsets == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75])


def test_the_request_bound_ends_the_schedule_before_the_duration():
    assert len(constant_offsets(100.0, Bounds(duration_s=10.0, max_requests=7))) == 7
    assert len(poisson_offsets(100.0, Bounds(duration_s=10.0, max_requests=7), seed=1)) == 7


def test_the_duration_bound_ends_the_schedule():
    offsets = poisson_offsets(50.0, Bounds(duration_s=3.0, max_requests=10**6), seed=3)
    assert offsets and max(offsets) < 3.0
    assert offsets == sorted(offsets)


def test_seeded_poisson_is_reproducible_and_seed_dependent():
    bounds = Bounds(duration_s=20.0, max_requests=10**6)
    assert poisson_offsets(10.0, bounds, seed=42) == poisson_offsets(10.0, bounds, seed=42)
    assert poisson_offsets(10.0, bounds, seed=42) != poisson_offsets(10.0, bounds, seed=43)
    assert open_loop_offsets(OpenLoop(10.0, "poisson", seed=42), bounds) == poisson_offsets(10.0, bounds, seed=42)


def test_poisson_mean_rate_is_right():
    # 200 s at 20/s: 4000 arrivals expected, sd sqrt(4000) ≈ 63; 5 % is about 3 sd
    offsets = poisson_offsets(20.0, Bounds(duration_s=200.0, max_requests=10**6), seed=7)
    assert len(offsets) / 200.0 == pytest.approx(20.0, rel=0.05)
    gaps = [b - a for a, b in zip(offsets, offsets[1:])]
    assert sum(gaps) / len(gaps) == pytest.approx(1 / 20.0, rel=0.05)
    # exponential gaps: about 63 % shorter than the mean
    assert sum(g < 1 / 20.0 for g in gaps) / len(gaps) == pytest.approx(0.632, abs=0.03)


def test_warmup_marks_early_requests_by_time_or_count():
    by_time = Bounds(duration_s=10.0, max_requests=100, warmup_s=2.0)
    assert by_time.is_warmup(0, 1.9) and not by_time.is_warmup(50, 2.0)
    by_count = Bounds(duration_s=10.0, max_requests=100, warmup_requests=3)
    assert by_count.is_warmup(2, 5.0) and not by_count.is_warmup(3, 0.1)


def test_invalid_schedules_say_what_is_wrong():
    with pytest.raises(ValueError, match="above 0 requests per second"):
        OpenLoop(0)
    with pytest.raises(ValueError, match="at least 1 user"):
        ClosedLoop(0)
    with pytest.raises(ValueError, match="leaves no measurement window"):
        Bounds(duration_s=5.0, max_requests=10, warmup_s=5.0)
    with pytest.raises(ValueError, match="duration above 0"):
        Bounds(duration_s=0, max_requests=10)
