"""Steps for the stability run (SC6): one soak per run of the suite, checkpointed, resumable; one gate per scenario."""
from __future__ import annotations

from behave import then, when

from citadel_acceptance.checks import soak
from citadel_acceptance.errors import SuiteConfigError
from citadel_acceptance.verdict import Verdict


@when("the system serves its normal load for the whole stability run")
def step_stability_run(context):
    """Run the soak once per run of the suite (resume one with -D soak.run_id=ID); SIGINT records "incomplete"."""
    try:
        context.soak = soak.run_once(context.session,
                                     on_interrupt=lambda verdict, files: context.evidence.record(verdict, **files))
    except SuiteConfigError as refused:  # another run's checkpoint: one sentence, not a traceback
        context.evidence.check(Verdict(name="stability run", passed=False, explanation=str(refused)))


@then("the run covered at least {hours:g} hours of normal load")
def step_soak_duration(context, hours):
    """Hours of load applied (summed over resumes), against the plan's 72 (a relaxed target says why)."""
    verdict = soak.duration_verdict(context.soak.result, context.thresholds.resolve("stability.duration_h", spec=hours))
    context.evidence.check(verdict, checkpoint=context.soak.checkpoint_view(), report=context.soak.report)


@then("at least {percent:g} % of the health checks found the system healthy")
def step_soak_availability(context, percent):
    """Healthy health checks (HTTP 200, status healthy) over all of them, one per sampling interval."""
    gate = context.thresholds.resolve("availability.percent", spec=percent)
    verdict = soak.availability_verdict(context.soak.result, gate)
    context.evidence.check(verdict, **context.soak.plot("availability"), unhealthy=context.soak.result.unhealthy)


@then("fewer than {percent:g} % of the run's requests failed")
def step_soak_errors(context, percent):
    """Failed requests (non-2xx, broken streams, timeouts) over every request of the soak."""
    verdict = soak.error_verdict(context.soak.result, context.thresholds.resolve("errors.rate_percent", spec=percent))
    context.evidence.check(verdict, **context.soak.plot("errors"), failures=context.soak.failures())


@then("the 95th-percentile latency of the last window is at most {ratio:g} times that of the first")
def step_soak_latency_drift(context, ratio):
    """p95 E2E of the last latency window over the first's (equal windows after the warm-up)."""
    gate = context.thresholds.resolve("stability.latency_drift_ratio", spec=ratio)
    verdict = soak.drift_verdict(context.soak.result, gate)
    context.evidence.check(verdict, **context.soak.plot("latency"), windows=context.soak.windows())


@then("the gateway's resident memory grows by less than {mb_per_h:g} MB per hour")
def step_soak_memory_slope(context, mb_per_h):
    """Least-squares slope of the gateway's resident memory after the warm-up (skipped where it cannot be read)."""
    if context.soak.result.memory_unavailable:
        context.scenario.skip(f"the gateway's memory cannot be read: {context.soak.result.memory_unavailable}")
        return
    gate = context.thresholds.resolve("stability.memory_slope_mb_per_h", spec=mb_per_h)
    verdict = soak.memory_slope_verdict(context.soak.result, gate)
    context.evidence.check(verdict, **context.soak.plot("memory"))


@then("its forecast for 24 hours later stays under {limit_mb:g} MB")
def step_soak_memory_forecast(context, limit_mb):
    """The fitted resident memory 24 hours after the last sample, against the gateway's memory limit."""
    gate = context.thresholds.resolve("stability.memory_forecast_mb", spec=limit_mb)
    verdict = soak.memory_forecast_verdict(context.soak.result, gate)
    context.evidence.check(verdict)


@then("no part of the system restarted or stopped during the run")
def step_soak_no_restart(context):
    """Each part's process (PID and start time) is the one it started with (skipped where none can be watched)."""
    if context.soak.result.restarts_unavailable:
        context.scenario.skip(f"no process can be watched: {context.soak.result.restarts_unavailable}")
        return
    verdict = soak.restart_verdict(context.soak.result, context.thresholds.resolve("stability.unplanned_restarts"))
    context.evidence.check(verdict, events=context.soak.result.events, **context.soak.plot("availability"))
