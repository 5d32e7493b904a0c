"""Steps for performance (SC2): rated load per model, streaming metrics, gateway overhead, cache, resources."""
from __future__ import annotations

from behave import then, when

from citadel_acceptance.checks.performance import probe as performance
from citadel_acceptance.verdict import Verdict


@when('clients send {rate:g} requests per second to "{model}" for the measurement window')
def step_rated_load(context, rate, model):
    """Open-loop streamed chat at the model's rated rate (spec from the plan, applied from the profile)."""
    context.model = model
    context.rate_gate = context.thresholds.resolve("throughput.rps", spec=rate, model=model)
    context.load = performance.model_load(context.session, model, context.rate_gate.applied)


@then("95 % of responses complete within {p95_ms:d} ms")
def step_load_p95(context, p95_ms):
    """p95 of E2E latency of the window against the model's response-time target."""
    gate = context.thresholds.resolve("latency.response_ms", spec=p95_ms, model=context.model)
    verdict = performance.p95_verdict(context.load, gate, "response time p95 under load", context.thresholds.confidence())
    context.evidence.check(verdict, **performance.evidence_of(context.load, context.model))


@then("the model sustains its rated throughput")
def step_sustained(context):
    """Successful requests per second of the window against the rated rate."""
    verdict = performance.throughput_verdict(context.load, context.rate_gate)
    context.evidence.check(verdict)


@then("fewer than {percent:g} % of requests fail")
def step_error_rate(context, percent):
    """Errors, broken streams and timeouts over all requests sent in the window."""
    verdict = performance.error_rate_verdict(context.load, context.thresholds.resolve("errors.rate_percent", spec=percent))
    context.evidence.check(verdict)


@when('clients stream answers from "{model}" at the normal load for the measurement window')
def step_streaming_load(context, model):
    """Open-loop streamed chat at the profile's normal load, asking for the server's usage."""
    context.model = model
    context.load = performance.model_load(context.session, model, context.session.profile.load.normal_rps)


@then("time to first token and time per output token are measured for every answer")
def step_ttft_tpot(context):
    """TTFT for every successful stream and TPOT from the server's usage; gated where the profile sets targets."""
    problems = performance.streaming_problems(context.load) + performance.streaming_target_problems(
        context.load, context.thresholds, context.model)
    verdict = Verdict.from_problems("TTFT and TPOT", problems, context.load.summary().formulas["tpot"], context.model)
    context.evidence.check(verdict, **performance.evidence_of(context.load, context.model))


@when('the same requests go to "{model}" directly and through the gateway at {rate:d} requests per second')
def step_overhead_load(context, model, rate):
    """Small chat requests at the overhead load, first straight to the model service, then through the gateway."""
    context.rate_gate = context.thresholds.resolve("gateway.overhead_load_rps", spec=rate)
    context.direct, context.through = performance.direct_and_through(context.session, model, context.rate_gate.applied)


@then("the gateway adds less than {overhead_ms:d} ms at the median and at the 95th percentile")
def step_overhead(context, overhead_ms):
    """Both runs error-free; difference of the medians and of the p95s of E2E latency, through minus direct."""
    gate = context.thresholds.resolve("gateway.overhead_ms", spec=overhead_ms)
    verdicts = performance.overhead_verdicts(context.direct, context.through, gate)
    context.evidence.record(verdicts[0], direct=context.direct.summary().as_dict(), through=context.through.summary().as_dict())
    for verdict in verdicts[1:]:
        context.evidence.record(verdict)
    assert all(v.passed for v in verdicts), "; ".join(v.explanation for v in verdicts if not v.passed)


@when('a user asks "{model}" the same deterministic question twice')
def step_ask_twice(context, model):
    """The same request at temperature 0, twice, with the cache counters read around the second."""
    context.cache = performance.ask_twice(context.session, model)


@then("the repeated question is answered from the cache, faster than the first time")
def step_cached(context):
    """The cache-hit counter grew by one and the repeated answer was faster."""
    verdict = Verdict.from_problems("response cache", performance.cache_problems(context.cache),
                                    "Δ citadel_cache_requests_total{result=hit} == 1 ∧ t2 < t1", "the gateway")
    context.evidence.check(verdict, probe=context.cache.__dict__)


@when("the system serves its normal load for the measurement window")
def step_normal_load(context):
    """The profile's normal load while the gateway's host metrics are read every second."""
    context.load, context.resources = performance.serve_normal_load(context.session)


@then("{resource} use stays below {percent:d} %")
def step_resource_below(context, resource, percent):
    """p95 of the readings of CPU or memory use against the plan's limit."""
    key, samples = {"CPU": ("resources.cpu_percent", context.resources.cpu_percent),
                    "memory": ("resources.memory_percent", context.resources.memory_percent)}[resource]
    verdict = performance.resource_verdict(samples, context.thresholds.resolve(key, spec=percent), f"{resource} use")
    context.evidence.check(verdict, readings=samples, normal_load=context.resources.rate_source)
