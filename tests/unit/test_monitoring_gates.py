"""SC3 verdicts: scrape targets, scrape interval, metric families, counters, rules, forecasts, alerts."""
from __future__ import annotations

import math

from citadel_acceptance.checks.monitoring.forecast import SeriesForecast
from citadel_acceptance.checks.monitoring.probe import AlertWatch, CountedRequests
from citadel_acceptance.checks.monitoring import verdicts as gates
from citadel_acceptance.checks.monitoring.prometheus import Rule, Target
from citadel_acceptance.config.monitoring import MetricFamily
from citadel_acceptance.config.thresholds import Thresholds

TARGETS = {"monitoring.scrape_interval_s": {"compare": "<=", "unit": "s", "source": "T2-001", "value": 10},
           "monitoring.forecast_horizon_h": {"compare": ">=", "unit": "h", "source": "profile",
                                             "per_model": {"memory": 4, "disk": 24}}}
FAMILIES = {
    "model_requests_total": MetricFamily(type="counter", labels=("model_name", "service", "status")),
    "model_inference_duration_seconds": MetricFamily(type="histogram", labels=("model_name", "service"),
                                                     buckets=(0.1, 0.5, 1.0, 2.0, 5.0, 10.0)),
    "system_cpu_usage_percent": MetricFamily(type="gauge"),
}
BUCKETS = "".join(f'model_inference_duration_seconds_bucket{{le="{le}",model_name="phi3",service="phi3"}} 1.0\n'
                  for le in ("0.1", "0.5", "1.0", "2.0", "5.0", "10.0", "+Inf"))
EXPOSITION = f"""# HELP model_requests_total Requests
# TYPE model_requests_total counter
model_requests_total{{model_name="phi3",service="phi3",status="success"}} 3.0
# HELP model_inference_duration_seconds Duration
# TYPE model_inference_duration_seconds histogram
{BUCKETS}model_inference_duration_seconds_count{{model_name="phi3",service="phi3"}} 1.0
model_inference_duration_seconds_sum{{model_name="phi3",service="phi3"}} 0.05
# HELP system_cpu_usage_percent CPU
# TYPE system_cpu_usage_percent gauge
system_cpu_usage_percent 12.5
"""


def target(job: str, health: str = "up", error: str = "") -> Target:
    return Target(job=job, instance="127.0.0.1:1", health=health, scrape_url="", last_error=error, last_scrape="",
                  last_scrape_duration_s=0.0, scrape_interval_s=1.0)


def test_every_expected_job_must_have_targets_and_all_of_them_up():
    assert gates.targets_verdict([target("gw"), target("qdrant")], ["gw", "qdrant"], "prom").passed
    verdict = gates.targets_verdict([target("gw"), target("qdrant", "down", "server returned HTTP status 401")],
                                    ["gw", "qdrant", "node"], "prom")
    assert not verdict.passed
    assert "qdrant target 127.0.0.1:1 is down: server returned HTTP status 401" in verdict.explanation
    assert "job 'node' has no active target" in verdict.explanation


def test_the_slowest_expected_job_decides_the_scrape_interval():
    gate = Thresholds.from_tables("p", TARGETS, {}).resolve("monitoring.scrape_interval_s", spec=10)
    ok = gates.scrape_interval_verdict({"gw": 1.0, "qdrant": 10.0, "other": 60.0}, ["gw", "qdrant"], gate, "prom")
    assert ok.passed and ok.measured == 10.0
    slow = gates.scrape_interval_verdict({"gw": 1.0, "qdrant": 15.0}, ["gw", "qdrant"], gate, "prom")
    assert not slow.passed and "expected <= 10 s, measured 15 s" in slow.explanation and "job qdrant" in slow.explanation
    missing = gates.scrape_interval_verdict({"gw": 1.0}, ["gw", "qdrant"], gate, "prom")
    assert not missing.passed and math.isinf(missing.measured)


def test_planned_families_pass_with_their_labels_and_buckets():
    verdict, rows = gates.families_verdict(EXPOSITION, FAMILIES, "/metrics")
    assert verdict.passed, verdict.explanation
    assert {row["family"] for row in rows} == set(FAMILIES)


def test_an_empty_label_counts_as_missing():
    text = EXPOSITION.replace('service="phi3",status', 'service="",status')
    verdict, _ = gates.families_verdict(text, FAMILIES, "/metrics")
    assert not verdict.passed and "1 of 1 samples lack the label 'service'" in verdict.explanation


def test_wrong_buckets_wrong_type_and_absent_families_fail():
    text = EXPOSITION.replace('le="2.0"', 'le="2.5"').replace("# TYPE system_cpu_usage_percent gauge",
                                                             "# TYPE system_cpu_usage_percent counter")
    verdict, _ = gates.families_verdict(text, {**FAMILIES, "system_disk_usage_bytes": MetricFamily(type="gauge")}, "/metrics")
    assert "bucket bounds [0.1, 0.5, 1, 2.5, 5, 10, +Inf], expected [0.1, 0.5, 1, 2, 5, 10, +Inf]" in verdict.explanation
    assert "system_cpu_usage_percent is exposed as a counter, expected a gauge" in verdict.explanation
    assert "system_disk_usage_bytes is not exposed" in verdict.explanation


def test_a_labelled_family_without_samples_cannot_be_checked():
    text = "# HELP model_requests_total Requests\n# TYPE model_requests_total counter\n"
    verdict, _ = gates.families_verdict(text, {"model_requests_total": FAMILIES["model_requests_total"]}, "/metrics")
    assert "model_requests_total has no samples" in verdict.explanation


def counted(success: float, error: float, observed: float) -> CountedRequests:
    run = CountedRequests(model="hermes", metrics_url="http://gw/metrics")
    run.outcomes = [{"kind": "ordinary", "status": 200}] * 5 + [{"kind": "too long", "status": 400}] * 3
    labels = lambda status: (("model_name", "hermes"), ("service", "s"), ("status", status))  # noqa: E731
    run.before = {("model_requests_total", labels("success")): 10.0, ("model_requests_total", labels("error")): 1.0,
                  ("model_inference_duration_seconds_count", (("model_name", "hermes"), ("service", "s"))): 11.0}
    run.after = {("model_requests_total", labels("success")): 10.0 + success,
                 ("model_requests_total", labels("error")): 1.0 + error,
                 ("model_inference_duration_seconds_count", (("model_name", "hermes"), ("service", "s"))): 11.0 + observed}
    return run


def test_counters_must_grow_by_exactly_what_the_clients_saw():
    assert gates.counters_verdict(counted(5, 3, 8)).passed
    verdict = gates.counters_verdict(counted(0, 3, 8))
    assert not verdict.passed
    assert 'model_requests_total{status="success"} of hermes grew by 0, expected exactly 5' in verdict.explanation
    assert "grew by 9, expected exactly 8" in gates.counters_verdict(counted(5, 3, 9)).explanation


def test_an_answered_overlong_prompt_means_no_error_was_caused():
    run = counted(6, 2, 8)
    run.outcomes = [{"kind": "ordinary", "status": 200}] * 5 + [{"kind": "too long", "status": 200}] + \
        [{"kind": "too long", "status": 400}] * 2
    assert "1 prompts longer than the model's context were answered 2xx" in gates.counters_verdict(run).explanation


def rule(name: str, health: str = "ok", error: str = "") -> Rule:
    return Rule(name=name, kind="alerting", group="g", file="f.yml", query="up == 0", health=health, last_error=error)


def test_rules_must_all_be_loaded_and_healthy():
    assert gates.rules_verdict([rule("A"), rule("B", "unknown")], ["A", "B"], "prom").passed
    verdict = gates.rules_verdict([rule("A", "err", "many-to-many matching")], ["A", "B", "C"], "prom")
    assert "not loaded: B, C (loaded: A)" in verdict.explanation and "many-to-many matching" in verdict.explanation
    assert "is not loaded" in gates.rule_loaded_verdict([rule("A")], "B", "prom").explanation
    assert gates.rule_loaded_verdict([rule("A")], "A", "prom").passed


def test_forecast_queries_must_answer_numbers():
    good = {"predict_linear(m[60s], 900)": [{"metric": {}, "value": [1.0, "123.5"]}]}
    assert gates.forecast_query_verdict(good, "prom").passed
    bad = {"predict_linear(m[60s], 900)": [], "predict_linear(d[60s], 900)": [{"metric": {}, "value": [1.0, "NaN"]}]}
    verdict = gates.forecast_query_verdict(bad, "prom")
    assert "answered an empty vector" in verdict.explanation and "answered a non-number" in verdict.explanation


def forecast(slope_per_s: float, resource: str = "memory", capacity: float = 1000.0) -> SeriesForecast:
    times = [1000.0 + i for i in range(20)]
    return SeriesForecast.fitted(resource, "used", "total", {"instance": "gw"}, times,
                                 [100.0 + slope_per_s * i for i in range(20)], capacity)


def test_each_resource_is_held_to_its_own_horizon():
    targets = Thresholds.from_tables("p", TARGETS, {})
    horizons = {r: targets.resolve("monitoring.forecast_horizon_h", model=r) for r in ("disk", "memory")}
    verdicts = gates.exhaustion_verdicts([forecast(0.0), forecast(-1.0, "disk")], [], horizons, "prom")
    assert [v.passed for v in verdicts] == [True, True]
    verdicts = gates.exhaustion_verdicts([forecast(0.0), forecast(0.1), forecast(0.0, "disk")], [], horizons, "prom")
    assert [v.passed for v in verdicts] == [True, False]
    assert "time to exhaustion for memory: expected >= 4 h, measured 2.495 h" in verdicts[1].explanation
    assert "set by the profile" in verdicts[1].gate.spec_source
    assert not gates.exhaustion_verdicts([], ["no samples of used"], horizons, "prom")[0].passed
    assert "no series of disk" in gates.exhaustion_verdicts([forecast(0.0)], [], horizons, "prom")[0].explanation


def test_an_alert_must_show_within_its_window():
    watch = AlertWatch("ModelInferenceErrors", "phi3", 20.0, "6 refused requests", first_active_s=2.5,
                       first_state="pending")
    assert gates.alert_verdict(watch).passed
    late = AlertWatch("ModelInferenceErrors", "phi3", 20.0, "6 refused requests", first_active_s=21.0,
                      timeline=[{"elapsed_s": 0, "state": "inactive"}], polls=40)
    verdict = gates.alert_verdict(late)
    assert not verdict.passed
    assert "ModelInferenceErrors for phi3 was not pending or firing within 20 s of 6 refused requests" in verdict.explanation


def test_a_burst_whose_requests_were_answered_proves_nothing():
    watch = AlertWatch("ModelInferenceErrors", "phi3", 20.0, "burst", first_active_s=2.0,
                       requests=[{"kind": "too long", "status": 200}, {"kind": "too long", "status": 400}])
    assert "1 of the 2 requests meant to fail were answered 2xx" in gates.alert_verdict(watch).explanation
