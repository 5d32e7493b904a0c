"""Then-steps no fault of the embedded stack can make fail alone, shown failing by calling the step itself.

A scenario stops at its first failing Then, so a step after another is shown failing only by a fault that leaves
its predecessors passing. For the steps below no such fault fits the embedded stack: the host's memory would have
to fill to 85 %, a deployment's pooler would have to hold connections, a load would have to be offered slower than
scheduled while every answer stays fast. Each test gives the step function (the one behave runs) the measurements
such a deployment would produce, with the plan's thresholds, and sees the step fail for the gate's reason; where
the step has predecessors in its scenario, the same measurements pass them, so it is this step that fails.

tests/selftest/completeness.py names these tests for the steps they prove (`PROVEN_ELSEWHERE`).
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from behave.parser import parse_file

from citadel_acceptance.checks.database.probe import ConnectionBurst
from citadel_acceptance.checks.operations.probe import ConfigChange
from citadel_acceptance.checks.performance.probe import ResourceSamples
from citadel_acceptance.checks.soak.analysis import MemoryFit, SoakResult
from citadel_acceptance.config.profile import load_profile
from citadel_acceptance.config.thresholds import Thresholds
from citadel_acceptance.load import Bounds, LoadRun, OpenLoop
from citadel_acceptance.load.records import RequestRecord
from citadel_acceptance.report.evidence import Evidence
from citadel_acceptance.report.redaction import Redactor
from steps import (database_steps, operations_steps, performance_steps, security_steps, soak_steps, vector_steps)

FEATURES = Path(__file__).resolve().parents[2] / "features"
MB = 1_000_000


def context_for(tmp_path: Path, **values) -> SimpleNamespace:
    """What a step reads: the plan's thresholds, evidence that fails the step on a failed verdict, and `values`."""
    return SimpleNamespace(thresholds=Thresholds.from_profile(load_profile("citadel-mvp2")),
                           evidence=Evidence(redactor=Redactor(), results_dir=tmp_path), **values)


def rated_rows() -> list[dict[str, str]]:
    """The example rows of the rated-load outline, as the feature file states them."""
    feature = parse_file(str(FEATURES / "sc2_performance" / "rated_load.feature"))
    outline = next(s for s in feature.scenarios if s.name.startswith("<model> answers within"))
    return [dict(zip(row.headings, row.cells)) for examples in outline.examples for row in examples.table.rows]


def lagging_load(rate: float, answer_s: float, stretch: float, window_s: float = 6.0) -> LoadRun:
    """A window of `rate` x `window_s` scheduled requests, each answered in `answer_s`, but each sent `stretch` times
    later into the window than scheduled (a client or server that cannot take the rate): no error, fast answers."""
    count = round(rate * window_s)
    records = []
    for index in range(count):
        scheduled = index / rate
        sent = scheduled * stretch
        records.append(RequestRecord(index=index, request_id=f"r{index}", scheduled=scheduled, issued=sent, sent=sent,
                                     first_byte=sent + answer_s / 2, first_content=sent + answer_s / 2,
                                     chunk_times=[sent + answer_s / 2, sent + answer_s], end=sent + answer_s, status=200,
                                     output_tokens=16, done_marker=True, streamed=True))
    return LoadRun(records=records, schedule=OpenLoop(rate=rate), bounds=Bounds(duration_s=window_s, max_requests=count),
                   window_start=0.0, started_at="", elapsed_s=window_s * stretch)


@pytest.mark.parametrize("row", rated_rows(), ids=lambda row: row["model"])
def test_a_load_offered_at_half_the_rate_fails_sustains_its_rated_throughput(row, tmp_path):
    model, rate, p95_ms = row["model"], float(row["rate"]), int(row["p95_ms"])
    context = context_for(tmp_path, model=model, load=lagging_load(rate, answer_s=p95_ms / 4000, stretch=2.0))
    context.rate_gate = context.thresholds.resolve("throughput.rps", spec=rate, model=model)
    performance_steps.step_load_p95(context, p95_ms)  # fast answers
    performance_steps.step_error_rate(context, 0.1)  # no error
    with pytest.raises(AssertionError, match=f"sustained throughput for {model}: expected >= "):
        performance_steps.step_sustained(context)


def test_connections_still_open_after_the_burst_fail_the_return_to_baseline(tmp_path):
    burst = ConnectionBurst(requested=200, succeeded=200, errors=[], seconds=1.5, baseline=3, peak=203, after=53)
    context = context_for(tmp_path, burst=burst)
    with pytest.raises(AssertionError, match="3 before, 203 at the peak, 53 after; expected ≤ 3 after"):
        database_steps.step_connections_released(context)


def test_memory_in_use_above_the_limit_fails_memory_use_stays_below(tmp_path):
    readings = ResourceSamples(cpu_percent=[35.0, 40.0, 38.0], memory_percent=[91.0, 92.5, 92.0])
    context = context_for(tmp_path, resources=readings)
    performance_steps.step_resource_below(context, "CPU", 80)
    with pytest.raises(AssertionError, match="memory use: expected < 85"):
        performance_steps.step_resource_below(context, "memory", 85)


def test_a_refused_search_of_twenty_fails_all_of_them_succeed(tmp_path):
    context = context_for(tmp_path, ops_asked=20, ops_served=17,
                          search_errors=["HTTP 503: too many concurrent requests"] * 3)
    with pytest.raises(AssertionError, match="concurrent vector operations: expected >= 20"):
        vector_steps.step_all_succeed(context)


def test_a_rollback_that_restores_nothing_fails_the_rollback_step(tmp_path):
    change = ConfigChange(setting="rate_limit_per_minute", original=100, changed_to=50,
                          answers={"rollback": {"status": 200, "response_body": {"ok": True}},
                                   "after": {"status": 200, "response_body": {"settings": {"rate_limit_per_minute": 50}}}},
                          audit=[{"action": "config.update"}])
    context = context_for(tmp_path, config_change=change)
    with pytest.raises(AssertionError, match="after the rollback rate_limit_per_minute is 50, expected the original 100"):
        operations_steps.step_rolled_back(context)


def test_a_chat_refused_while_the_vector_store_is_down_fails_the_question_without_retrieval(tmp_path):
    plain = SimpleNamespace(status=503, body={"error": {"message": "vector store unavailable"}}, url="/v1/chat/completions",
                            as_dict=lambda: {})
    context = context_for(tmp_path, plain=plain)
    with pytest.raises(AssertionError, match="expected 200, got 503"):
        vector_steps.step_plain_answered(context)


def test_a_superuser_application_role_fails_the_components_first_line(tmp_path):
    context = context_for(tmp_path, superuser=True)
    with pytest.raises(AssertionError, match="the application's role is a superuser"):
        security_steps.step_not_superuser(context)


def soak_result(first_mb: float, slope_mb_per_h: float) -> SoakResult:
    """A complete stability run whose gateway memory starts at `first_mb` and grows by `slope_mb_per_h`."""
    hours = 72
    slope = slope_mb_per_h * MB / 3600
    fit = MemoryFit(n=hours * 60, slope_bytes_per_s=slope, intercept=first_mb * MB, t_first=0.0, t_last=hours * 3600.0,
                    first_bytes=first_mb * MB, last_bytes=first_mb * MB + slope * hours * 3600)
    return SoakResult(run_id="t", complete=True, status="complete", elapsed_s=hours * 3600.0, duration_s=hours * 3600.0,
                      requests=10_000, failed=0, error_kinds={}, samples=hours * 60, healthy_samples=hours * 60,
                      unhealthy=[], windows=[], memory=fit, events=[], starts=1, interruptions=[])


def test_a_gateway_near_its_memory_limit_fails_the_24_hour_forecast_though_it_grows_slowly(tmp_path):
    context = context_for(tmp_path, soak=SimpleNamespace(result=soak_result(first_mb=1500.0, slope_mb_per_h=8.0),
                                                                   plot=lambda _: {}))
    soak_steps.step_soak_memory_slope(context, 10)  # 8 MB/h: under the plan's 10
    with pytest.raises(AssertionError, match="gateway memory 24-hour forecast: expected < 2048"):
        soak_steps.step_soak_memory_forecast(context, 2048)


def test_a_snapshot_that_restores_fewer_points_fails_the_round_trip(tmp_path):
    """The embedded stand-in takes no snapshots (the scenario is skipped there); on Qdrant the round trip is judged."""
    context = context_for(tmp_path, snapshot_problem="the restored collection holds 97 points, the source 100")
    with pytest.raises(AssertionError, match="the restored collection holds 97 points, the source 100"):
        vector_steps.step_snapshot_restored(context)
