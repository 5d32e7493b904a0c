"""No gate passes on nothing: each family, fed no sample, a missing metric or an unknown value, fails with "no data".

A p95 of no sample used to read 0 ms, 0 % errors of no request passed, an absent CPU metric read 0 %, a GPU
that reported no clock-event reasons read as free of slowdowns, no critical query meant "every query uses an
index", and a restore of an empty database matched its empty source.
"""
from __future__ import annotations

import pytest

from citadel_acceptance.checks.database import verdicts as database
from citadel_acceptance.checks.gpu.snapshot import GpuDevice, GpuSnapshot
from citadel_acceptance.checks.gpu.verdicts import hardware_slowdown_verdict
from citadel_acceptance.checks.monitoring.verdicts import scrape_interval_verdict
from citadel_acceptance.checks.operations.probe import BackupCheck, backup_problems
from citadel_acceptance.checks.performance.probe import error_rate_verdict, p95_verdict, resource_verdict
from citadel_acceptance.checks.percentiles import percentile_verdict
from citadel_acceptance.config.profile import load_profile
from citadel_acceptance.config.thresholds import Thresholds
from citadel_acceptance.load import Bounds, LoadRun, OpenLoop

PLAN = Thresholds.from_profile(load_profile("citadel-mvp2"))


def empty_run() -> LoadRun:
    return LoadRun(records=[], schedule=OpenLoop(rate=2.0), bounds=Bounds(duration_s=6.0, max_requests=12),
                   window_start=0.0, started_at="", elapsed_s=6.0, clock_origin=0.0)


@pytest.mark.parametrize("verdict", [
    pytest.param(lambda: p95_verdict(empty_run(), PLAN.resolve("latency.response_ms", spec=300, model="phi3"),
                                     "response time p95 under load", 0.95), id="rated-load p95"),
    pytest.param(lambda: error_rate_verdict(empty_run(), PLAN.resolve("errors.rate_percent", spec=0.1)), id="error rate"),
    pytest.param(lambda: database.latency_verdict(PLAN.resolve("database.query_ms", spec=50), {}, 0.95), id="critical-query p95"),
    pytest.param(lambda: percentile_verdict(PLAN.resolve("vector.search_ms", spec=150), [], 0, "similarity search p95", "p95"),
                 id="search p95"),
    pytest.param(lambda: resource_verdict([], PLAN.resolve("resources.cpu_percent", spec=80), "CPU use"), id="CPU"),
    pytest.param(lambda: scrape_interval_verdict({}, [], PLAN.resolve("monitoring.scrape_interval_s", spec=10), "Prometheus"),
                 id="scrape interval"),
])
def test_a_measured_gate_fed_nothing_fails_with_no_data(verdict):
    result = verdict()
    assert not result.passed and "no data" in result.explanation, result.explanation


def test_no_critical_query_is_no_proof_that_they_use_indexes():
    verdict = database.plans_verdict([])
    assert not verdict.passed and "no data: no critical query was checked" in verdict.explanation


def test_a_gpu_that_reports_no_clock_event_reasons_is_not_free_of_slowdowns():
    unknown = GpuSnapshot(source="nvml", devices=(GpuDevice(index=0, name="H100"),))
    assert not hardware_slowdown_verdict(unknown).passed
    mixed = GpuSnapshot(source="nvml", devices=(GpuDevice(index=0, name="H100", throttle_reasons=()),
                                                GpuDevice(index=1, name="H100")))
    verdict = hardware_slowdown_verdict(mixed)
    assert not verdict.passed and "reported no clock-event reasons" in verdict.explanation
    calm = GpuSnapshot(source="nvml", devices=(GpuDevice(index=0, name="H100", throttle_reasons=("sw_power_cap",)),))
    assert hardware_slowdown_verdict(calm).passed


def test_a_restore_of_an_empty_source_proves_nothing():
    assert backup_problems(BackupCheck(database="x"))[0].startswith("no data: the source database has no table")
    empty = BackupCheck(database="x", source={"request_log": (0, "")}, restored={"request_log": (0, "")})
    assert backup_problems(empty)[0].startswith("no data: every table of the source database is empty")
    full = BackupCheck(database="x", source={"request_log": (3, "ab")}, restored={"request_log": (3, "ab")})
    assert backup_problems(full) == []


def test_the_throughput_tolerance_does_not_make_a_plan_run_relaxed():
    """READY must be reachable: the 5 % tolerance is part of the stated target, not a relaxation of it."""
    from citadel_acceptance.checks.performance.probe import throughput_verdict

    run = empty_run()
    plan = throughput_verdict(run, PLAN.resolve("throughput.rps", spec=50, model="phi3"))
    assert plan.gate is not None and not plan.gate.relaxed and not plan.passed
    lowered = Thresholds.from_tables("t", {"throughput.rps": {"compare": ">=", "unit": "req/s", "value": 10}},
                                     {"throughput.rps": {"value": 2, "reason": "CPU"}})
    assert throughput_verdict(run, lowered.resolve("throughput.rps", spec=10, model="phi3")).gate.relaxed
