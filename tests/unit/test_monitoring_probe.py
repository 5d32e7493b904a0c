"""The Prometheus client, the forecast arithmetic and the stack's generated Prometheus configuration."""
from __future__ import annotations

import math

import httpx
import pytest
import yaml

from citadel_acceptance.checks.monitoring.forecast import SeriesForecast, fit_line, forecast_png
from citadel_acceptance.checks.monitoring.probe import AlertWatch, alert_state, watch_alert_during
from citadel_acceptance.checks.monitoring.verdicts import alert_verdict
from citadel_acceptance.checks.monitoring.prometheus import Alert, PrometheusError, PrometheusProbe, parse_duration
from citadel_stack.prometheus.config import (GATEWAY_JOB, VECTOR_STORE_JOB, ScrapeSettings, duration, rule_files,
                                             scrape_config)

CONFIG_YAML = """global:
  scrape_interval: 15s
scrape_configs:
- job_name: citadel-gateway
  scrape_interval: 1s
- job_name: qdrant
"""


ALERT_STATES = ["pending"]  # what /api/v1/alerts answers for phi3's alert, poll after poll (the last one stays)


@pytest.fixture(autouse=True)
def alert_states():
    ALERT_STATES[:] = ["pending"]
    return ALERT_STATES


def fake_prometheus(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/api/v1/status/config":
        return httpx.Response(200, json={"status": "success", "data": {"yaml": CONFIG_YAML}})
    if path == "/api/v1/targets":
        return httpx.Response(200, json={"status": "success", "data": {"activeTargets": [
            {"labels": {"job": "qdrant", "instance": "q:1"}, "health": "down", "lastError": "401", "scrapeInterval": "15s",
             "scrapeUrl": "http://q:1/metrics", "lastScrape": "now", "lastScrapeDuration": 0.01}]}})
    if path == "/api/v1/alerts":
        state = ALERT_STATES.pop(0) if len(ALERT_STATES) > 1 else ALERT_STATES[0]
        return httpx.Response(200, json={"status": "success", "data": {"alerts": [
            {"labels": {"alertname": "ModelInferenceErrors", "model_name": "phi3"}, "state": state,
             "activeAt": "now", "value": "1e+00"}] if state != "inactive" else []}})
    if path == "/api/v1/query":
        return httpx.Response(400, json={"status": "error", "errorType": "bad_data", "error": "parse error"})
    return httpx.Response(404, text="not found")


def probe() -> PrometheusProbe:
    client = PrometheusProbe("http://prom:9090/")
    client._http = httpx.Client(base_url=client.base_url, transport=httpx.MockTransport(fake_prometheus))
    return client


def test_durations_are_read_like_prometheus_writes_them():
    assert [parse_duration(d) for d in ("10s", "1m30s", "500ms", "1h", "2d")] == [10, 90, 0.5, 3600, 172800]
    with pytest.raises(ValueError):
        parse_duration("10")
    assert (duration(1), duration(1.5), duration(10.0)) == ("1s", "1500ms", "10s")


def test_the_probe_reads_intervals_targets_and_alerts_and_keeps_every_call():
    client = probe()
    assert client.scrape_intervals() == {"citadel-gateway": 1.0, "qdrant": 15.0}
    [qdrant] = client.targets()
    assert (qdrant.job, qdrant.health, qdrant.scrape_interval_s) == ("qdrant", "down", 15.0)
    assert alert_state(client.alerts(), "ModelInferenceErrors", "phi3") == ("pending", "1e+00")
    assert alert_state(client.alerts(), "ModelInferenceErrors", "hermes") == ("inactive", "")
    assert [c.path for c in client.take_calls()] == ["/api/v1/status/config", "/api/v1/targets", "/api/v1/alerts",
                                                     "/api/v1/alerts"]
    assert client.take_calls() == []


def test_a_refused_query_names_the_reason():
    client = probe()
    with pytest.raises(PrometheusError, match="parse error"):
        client.query("up ==")
    assert client.calls[-1].error == "parse error"


def test_an_unreachable_prometheus_is_an_environment_problem():
    client = PrometheusProbe("http://127.0.0.1:9", timeout_s=1.0)
    with pytest.raises(PrometheusError, match="ENVIRONMENT NOT READY: Prometheus at http://127.0.0.1:9 is unreachable"):
        client.rules()


def test_watching_an_alert_stops_as_soon_as_it_shows(alert_states):
    alert_states[:] = ["inactive", "pending"]
    client = probe()
    sent = []
    watch = watch_alert_during(client, AlertWatch("ModelInferenceErrors", "phi3", 5.0, "burst"),
                               lambda stop: sent.append(stop.wait(2.0)), poll_s=0.05)
    assert watch.seen and watch.first_state == "pending" and watch.first_active_s < 1.0
    assert sent == [True], "the provocation is told to stop once the alert shows"
    assert watch.state_before == "inactive" and alert_verdict(watch).passed


def test_an_alert_already_active_is_waited_for_and_fails_if_it_never_clears(alert_states):
    sent = []
    watch = watch_alert_during(probe(), AlertWatch("ModelInferenceErrors", "phi3", 0.3, "a burst"),
                               lambda stop: sent.append(1), poll_s=0.05)
    verdict = alert_verdict(watch)
    assert sent == [] and not verdict.passed, "nothing is provoked, and an alert raised by something else proves nothing"
    assert "was already pending before a burst and still pending after waiting" in verdict.explanation


def test_an_alert_that_clears_before_the_provocation_counts_when_it_comes_back(alert_states):
    alert_states[:] = ["firing", "firing", "inactive", "inactive", "pending"]
    sent = []
    watch = watch_alert_during(probe(), AlertWatch("ModelInferenceErrors", "phi3", 5.0, "a burst"),
                               lambda stop: sent.append(stop.wait(2.0)), poll_s=0.05)
    verdict = alert_verdict(watch)
    assert sent == [True] and verdict.passed, verdict.explanation
    assert "it was firing before and became inactive within" in verdict.explanation


def test_least_squares_and_time_to_exhaustion():
    line = fit_line([10.0, 11.0, 12.0, 13.0], [5.0, 7.0, 9.0, 11.0])
    assert (line.slope, line.intercept) == pytest.approx((2.0, 5.0))
    rising = SeriesForecast.fitted("disk", "used", "total", {}, [0.0, 1.0, 2.0], [10.0, 20.0, 30.0], 130.0)
    assert rising.exhaustion_s == pytest.approx(10.0)
    assert math.isinf(SeriesForecast.fitted("disk", "used", "total", {}, [0.0, 1.0], [10.0, 10.0], 100.0).exhaustion_s)
    full = SeriesForecast.fitted("disk", "used", "total", {}, [0.0, 1.0], [100.0, 100.0], 100.0)
    assert full.exhaustion_s == 0.0 and full.notes
    with pytest.raises(ValueError):
        fit_line([1.0], [1.0])


def test_the_forecast_plot_is_a_png():
    rising = SeriesForecast.fitted("disk", "used", "total", {"instance": "gw"}, [0.0, 1.0, 2.0], [1e9, 2e9, 3e9], 1e11)
    assert forecast_png([rising], {"disk": 0.25}).startswith(b"\x89PNG")


def test_the_generated_configuration_scrapes_both_parts_and_loads_every_rule_file(tmp_path):
    settings = ScrapeSettings.from_monitoring({"stack_scrape_interval_s": 1, "stack_evaluation_interval_s": 1})
    config = scrape_config(settings, "127.0.0.1:1", "/metrics", "127.0.0.1:2", tmp_path / "key", "127.0.0.1:3",
                           [tmp_path / "alerts.yml"])
    assert config["global"]["scrape_interval"] == "1s" and config["global"]["evaluation_interval"] == "1s"
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs[VECTOR_STORE_JOB]["authorization"] == {"type": "Bearer", "credentials_file": str(tmp_path / "key")}
    assert jobs[GATEWAY_JOB]["static_configs"] == [{"targets": ["127.0.0.1:1"]}]
    assert set(rule_files(settings)) == {"alerts.yml", "predictive.yml", "anomaly.yml"}


def test_faults_change_the_generated_configuration(tmp_path):
    settings = ScrapeSettings.from_monitoring({}, ["rule_file_not_loaded:predictive", "slow_scrape:15",
                                                   "scrape_target_down:qdrant"])
    assert "predictive.yml" not in rule_files(settings)
    jobs = {job["job_name"]: job for job in scrape_config(settings, "a:1", "/metrics", "b:2", tmp_path / "k", "c:3",
                                                          [])["scrape_configs"]}
    assert jobs[VECTOR_STORE_JOB]["scrape_interval"] == "15s" and jobs[VECTOR_STORE_JOB]["metrics_path"] != "/metrics"
    assert jobs[GATEWAY_JOB]["metrics_path"] == "/metrics"
    with pytest.raises(ValueError, match="no such rule file"):
        ScrapeSettings.from_monitoring({}, ["rule_file_not_loaded:nothing"])


def test_the_anomaly_windows_of_the_profile_replace_the_planned_ones():
    settings = ScrapeSettings.from_monitoring({"stack_anomaly_window": "10s", "stack_anomaly_baseline": "2m"})
    anomaly = yaml.safe_load(rule_files(settings)["anomaly.yml"])["groups"][0]["rules"]
    text = " ".join(rule["expr"] for rule in anomaly)
    assert "[10s]" in text and "[2m] offset 10s" in text and "5m" not in text and "1h" not in text
    planned = yaml.safe_load(rule_files(ScrapeSettings())["predictive.yml"])
    assert "[1h]" in planned["groups"][0]["rules"][0]["expr"], "only the anomaly group is shortened"
    with pytest.raises(ValueError, match="Prometheus durations"):
        ScrapeSettings.from_monitoring({"stack_anomaly_window": "ten seconds"})
