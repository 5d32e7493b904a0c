"""Steps for monitoring with predictive analytics (SC3): scrape targets, metrics, rules, forecasts, alerts."""
from __future__ import annotations

from behave import given, then, when

from citadel_acceptance.checks.monitoring import probe as monitoring

from citadel_acceptance.checks.monitoring import verdicts as gates
from citadel_acceptance.checks.monitoring.forecast import forecast_png


@when("Prometheus has had the time to collect from every expected part once")
def step_first_scrapes(context):
    """Read the active targets once every target of the expected jobs was scraped (bounded wait)."""
    jobs = context.session.profile.monitoring.scrape_jobs
    context.targets_seen = monitoring.wait_for_first_scrapes(context.session.prometheus, jobs)


@then("every expected part is reported up")
def step_targets_up(context):
    """Every active target of each expected job has health 'up'."""
    jobs = context.session.profile.monitoring.scrape_jobs
    verdict = gates.targets_verdict(context.targets_seen, jobs, context.session.prometheus_url)
    context.evidence.check(verdict, **{"scrape targets": [t.as_dict() for t in context.targets_seen],
                                        "PromQL and API calls": context.session.prometheus.take_calls()})


@when("the monitoring configuration in force is read")
def step_read_configuration(context):
    """The scrape interval of every job, from the configuration Prometheus runs with."""
    context.intervals = context.session.prometheus.scrape_intervals()


@then("every expected part is collected at least every {seconds:d} seconds")
def step_scrape_interval(context, seconds):
    """The longest scrape interval among the expected jobs against the plan's interval."""
    gate = context.thresholds.resolve("monitoring.scrape_interval_s", spec=seconds)
    verdict = gates.scrape_interval_verdict(context.intervals, context.session.profile.monitoring.scrape_jobs, gate,
                                            context.session.prometheus_url)
    context.evidence.check(verdict, **{"PromQL and API calls": context.session.prometheus.take_calls()})


@given("every model has answered a question")
def step_every_model_answered(context):
    """One counted question per model, so that every labelled metric has samples."""
    for model in sorted(context.session.profile.models):
        monitoring.send_counted(context.session, model, total=1, failing=0)


@when("the gateway's metrics are read")
def step_read_metrics(context):
    """The gateway's /metrics text, as Prometheus would scrape it."""
    context.metrics_text = monitoring.gateway_metrics_text(context.session)


@then("every planned metric family is exposed with its planned type, labels and bucket bounds")
def step_families(context):
    """Each planned family: type, every planned label on every sample, exact bucket bounds."""
    verdict, table = gates.families_verdict(context.metrics_text, context.session.profile.monitoring.metrics,
                                            context.session.profile.gateway.metrics_path)
    context.evidence.check(verdict, **{"metric families": table, "exposition": context.metrics_text})


@when('clients ask "{model}" {total:d} questions, {failing:d} of them too long for the model to accept')
def step_counted_questions(context, model, total, failing):
    """Unique questions (no cache answers), some longer than the model's context, metrics read around them."""
    context.counted = monitoring.send_counted(context.session, model, total=total, failing=failing)


@then('the gateway\'s success and error counters and its latency histogram for "{model}" grew by exactly what the clients saw')
def step_counters_agree(context, model):
    """Δ success = 2xx answers, Δ error = failures, Δ histogram count = requests sent."""
    verdict = gates.counters_verdict(context.counted)
    context.evidence.check(verdict, **{"requests": context.counted.outcomes})


@when("the rules Prometheus evaluates are listed")
def step_list_rules(context):
    """Every rule group and rule Prometheus has loaded."""
    context.rules = context.session.prometheus.rules()


@then("every expected alert and recording rule is loaded and evaluates without error")
def step_rules_loaded(context):
    """Every rule the profile expects is loaded and healthy."""
    verdict = gates.rules_verdict(context.rules, context.session.profile.monitoring.rules, context.session.prometheus_url)
    context.evidence.check(verdict, **{"rules": [r.as_dict() for r in context.rules],
                                        "PromQL and API calls": context.session.prometheus.take_calls()})


@when("memory and disk use are sampled from the monitoring over the forecast window")
def step_sample_forecast(context):
    """Range queries of the forecast series over the window, fitted with a least-squares line each."""
    context.forecasts, context.forecast_problems = monitoring.sample_forecasts(context.session)
    context.horizons = monitoring.forecast_horizons(context.session, context.thresholds)


@then("Prometheus answers a forecast query for the horizon")
def step_forecast_query(context):
    """Prometheus' own predict_linear for the horizon answers with a number."""
    answers = monitoring.ask_forecasts(context.session, {r: g.applied for r, g in context.horizons.items()})
    verdict = gates.forecast_query_verdict(answers, context.session.prometheus_url)
    context.evidence.check(verdict, **{"PromQL and API calls": context.session.prometheus.take_calls()})


@then("neither memory nor disk is forecast to run out within the horizon")
def step_no_exhaustion(context):
    """Per resource, the soonest time to exhaustion of the suite's own forecasts against its horizon."""
    verdicts = gates.exhaustion_verdicts(context.forecasts, context.forecast_problems, context.horizons,
                                         context.session.prometheus_url)
    plot = forecast_png(context.forecasts, {r: g.applied for r, g in context.horizons.items()})
    context.evidence.record(verdicts[0], **{"forecast plot": plot, "samples": monitoring.sample_rows(context.forecasts)})
    for verdict in verdicts[1:]:
        context.evidence.record(verdict)
    assert all(v.passed for v in verdicts), "; ".join(v.explanation for v in verdicts if not v.passed)


@given("Prometheus evaluates the {which} rule")
def step_rule_evaluated(context, which):
    """The alert rule about to be provoked is loaded and evaluates (else provoking it proves nothing)."""
    settings = context.session.profile.monitoring
    name = {"inference-error alert": settings.error_alert, "latency anomaly": settings.anomaly_alert}[which]
    verdict = gates.rule_loaded_verdict(context.session.prometheus.rules(), name, context.session.prometheus_url)
    context.evidence.check(verdict, **{"PromQL and API calls": context.session.prometheus.take_calls()})


@when('{count:d} requests to "{model}" fail in quick succession')
def step_error_burst(context, count, model):
    """Requests the model refuses (prompts too long), spread over the burst time, while the alert is watched."""
    context.watch = monitoring.error_burst(context.session, model, count)


@given('"{model}" has answered short questions at its usual pace for a while')
def step_usual_traffic(context, model):
    """Short questions at the normal rate for the anomaly baseline time."""
    context.usual = monitoring.usual_traffic(context.session, model)


@when('"{model}" suddenly takes far longer to answer')
def step_latency_spike(context, model):
    """Long answers one after the other, while the anomaly alert is watched."""
    context.watch = monitoring.latency_spike(context.session, model)


@then('the {which} alert is raised for "{model}" within its window')
def step_alert_raised(context, which, model):
    """The watched alert was pending or firing for the model within the profile's window."""
    verdict = gates.alert_verdict(context.watch)
    context.evidence.check(verdict, **{"alert timeline": context.watch.timeline, "requests sent": context.watch.requests,
                                        "PromQL and API calls": context.session.prometheus.take_calls()[-20:]})
