"""Verdicts of the SC3 monitoring scenarios, each with the formula it applies and the tables behind it."""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from prometheus_client.parser import text_string_to_metric_families

from citadel_acceptance.checks.monitoring.forecast import SeriesForecast
from citadel_acceptance.checks.monitoring.probe import DURATION_COUNT, ERROR, REQUESTS_METRIC, SUCCESS, AlertWatch, CountedRequests
from citadel_acceptance.checks.monitoring.prometheus import Rule, Target
from citadel_acceptance.config.monitoring import MetricFamily
from citadel_acceptance.config.thresholds import Gate
from citadel_acceptance.verdict import Verdict

FAMILY_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}


def targets_verdict(targets: Sequence[Target], jobs: Sequence[str], where: str) -> Verdict:
    """Every expected job has at least one active target, and every one of them is up."""
    problems = []
    for job in jobs:
        mine = [t for t in targets if t.job == job]
        if not mine:
            problems.append(f"job {job!r} has no active target (jobs scraped: {sorted({t.job for t in targets})})")
        for target in mine:
            if target.health != "up":
                error = f": {target.last_error}" if target.last_error else " (never scraped)"
                problems.append(f"{job} target {target.instance} is {target.health}{error}")
    return Verdict.from_problems("scrape targets up", problems,
                                 "every active target of each expected job has health 'up' (its last scrape succeeded)",
                                 where, jobs=list(jobs), targets=len(targets))


def scrape_interval_verdict(intervals: Mapping[str, float], jobs: Sequence[str], gate: Gate, where: str) -> Verdict:
    """The longest scrape interval among the expected jobs against the target."""
    missing = [job for job in jobs if job not in intervals]
    measured = math.inf if missing or not jobs else max(intervals[job] for job in jobs)
    slowest = "" if missing or not jobs else max(jobs, key=lambda job: intervals[job])
    verdict = gate.check(measured, "scrape interval",
                         "max over the expected jobs of the scrape_interval Prometheus runs with "
                         "(the job's own setting, else the global one), from GET /api/v1/status/config",
                         where=f"{where}, job {slowest}" if slowest else where, n=len(jobs))
    verdict.details.update({"intervals_s": dict(intervals), "jobs_missing_from_config": missing})
    return verdict


def family_table(text: str) -> dict[str, dict[str, Any]]:
    """Each metric family of an exposition: type, samples (name and labels) and histogram bucket bounds."""
    families: dict[str, dict[str, Any]] = {}
    for family in text_string_to_metric_families(text):
        samples = [(s.name, dict(s.labels)) for s in family.samples if not s.name.endswith("_created")]
        families[family.name] = {"type": family.type, "samples": samples}
    return families


def families_verdict(text: str, expected: Mapping[str, MetricFamily], where: str) -> tuple[Verdict, list[dict[str, Any]]]:
    """Every planned family exposed with its type, every sample with every planned label (non-empty), and
    every histogram series with exactly the planned bucket bounds (plus +Inf). Returns the table too."""
    families = family_table(text)
    problems, rows = [], []
    for name, spec in expected.items():
        kind = spec.type
        family = families.get(name) or families.get(name.removesuffix("_total"))
        if family is None:
            problems.append(f"{name} is not exposed")
            rows.append({"family": name, "expected type": kind, "exposed": "no"})
            continue
        labels = list(spec.labels)
        samples = [labels_of for sample_name, labels_of in family["samples"]
                   if not FAMILY_SUFFIXES.get(kind) or sample_name.endswith(FAMILY_SUFFIXES[kind])]
        if family["type"] != kind:
            problems.append(f"{name} is exposed as a {family['type']}, expected a {kind}")
        if labels and not samples:
            problems.append(f"{name} has no samples: its labels cannot be checked")
        for label in labels:
            lacking = [s for s in samples if not s.get(label)]
            if lacking:
                problems.append(f"{name}: {len(lacking)} of {len(samples)} samples lack the label {label!r} "
                                f"(e.g. {lacking[0]})")
        bounds_seen = _bucket_problems(name, family, spec, problems)
        rows.append({"family": name, "expected type": kind, "exposed": family["type"], "samples": len(samples),
                     "labels seen": sorted({k for s in samples for k, v in s.items() if v and k != "le"}),
                     "expected labels": labels, "bucket bounds seen": bounds_seen,
                     "expected bucket bounds": list(spec.buckets) if spec.buckets is not None else ""})
    verdict = Verdict.from_problems("planned metric families", problems,
                                    "for each planned family: exposed, of the planned type, every sample carrying every "
                                    "planned label with a value, every histogram series with exactly the planned bucket "
                                    "bounds plus +Inf (parsed with prometheus_client's parser)", where)
    return verdict, rows


def _bucket_problems(name: str, family: Mapping[str, Any], spec: MetricFamily, problems: list[str]) -> str:
    if spec.buckets is None:
        return ""
    wanted = sorted(float(b) for b in spec.buckets) + [math.inf]
    per_series: dict[tuple[tuple[str, str], ...], list[float]] = {}
    for sample_name, labels in family["samples"]:
        if sample_name.endswith("_bucket"):
            key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
            per_series.setdefault(key, []).append(float(labels["le"]))
    if not per_series:
        problems.append(f"{name} has no bucket samples: its bounds cannot be checked")
    seen = set()
    for key, bounds in per_series.items():
        seen.add(tuple(sorted(bounds)))
        if sorted(bounds) != wanted:
            problems.append(f"{name}{dict(key)}: bucket bounds {_bounds(sorted(bounds))}, expected {_bounds(wanted)}")
    return "; ".join(_bounds(list(b)) for b in sorted(seen))


def _bounds(bounds: list[float]) -> str:
    return "[" + ", ".join("+Inf" if math.isinf(b) else f"{b:g}" for b in bounds) + "]"


def counters_verdict(run: CountedRequests) -> Verdict:
    """Δ success counter = 2xx answers, Δ error counter = other answers, Δ histogram count = requests sent."""
    success, error = run.grew(REQUESTS_METRIC, status=SUCCESS), run.grew(REQUESTS_METRIC, status=ERROR)
    observed = run.grew(DURATION_COUNT)
    problems = []
    too_long_answered = [o for o in run.outcomes if o["kind"] == "too long" and 200 <= o["status"] < 300]
    if too_long_answered:
        problems.append(f"{len(too_long_answered)} prompts longer than the model's context were answered 2xx: "
                        "no inference error was caused (raise [monitoring] error_prompt_words)")
    ordinary_failed = [o for o in run.outcomes if o["kind"] == "ordinary" and not 200 <= o["status"] < 300]
    if ordinary_failed:
        problems.append(f"{len(ordinary_failed)} ordinary questions failed: {ordinary_failed[0]}")
    for label, grew, expected in ((f"{REQUESTS_METRIC}{{status=\"success\"}}", success, run.answered),
                                  (f"{REQUESTS_METRIC}{{status=\"error\"}}", error, run.failed),
                                  (DURATION_COUNT, observed, run.sent)):
        if grew != expected:
            problems.append(f"{label} of {run.model} grew by {grew:g}, expected exactly {expected} "
                            f"(the clients sent {run.sent}, {run.answered} answered, {run.failed} failed)")
    return Verdict.from_problems(
        "server counters agree with the clients", problems,
        "Δ model_requests_total{status=success} == 2xx answers; Δ model_requests_total{status=error} == non-2xx "
        "answers; Δ model_inference_duration_seconds_count == requests sent (same model; /metrics read before and after)",
        run.metrics_url, sent=run.sent, answered=run.answered, failed=run.failed,
        success_grew=success, error_grew=error, histogram_count_grew=observed)


def rules_verdict(rules: Sequence[Rule], expected: Sequence[str], where: str) -> Verdict:
    """Every expected rule is loaded, and none of them failed its last evaluation."""
    by_name = {rule.name: rule for rule in rules}
    problems = []
    missing = [name for name in expected if name not in by_name]
    if missing:
        problems.append(f"not loaded: {', '.join(missing)} (loaded: {', '.join(sorted(by_name)) or 'none'})")
    for name in expected:
        rule = by_name.get(name)
        if rule is not None and rule.health == "err":
            problems.append(f"{name} ({rule.file}) failed its last evaluation: {rule.last_error}")
    return Verdict.from_problems("expected rules loaded", problems,
                                 "every rule named in [monitoring] rules appears in GET /api/v1/rules with health "
                                 "other than 'err'", where, loaded=len(rules), expected=list(expected))


def rule_loaded_verdict(rules: Sequence[Rule], name: str, where: str) -> Verdict:
    """One alert rule is loaded and evaluates (a precondition of provoking it)."""
    rule = next((r for r in rules if r.name == name), None)
    problems = []
    if rule is None:
        problems.append(f"the alert rule {name} is not loaded: nothing can raise it")
    elif rule.health == "err":
        problems.append(f"the alert rule {name} fails to evaluate: {rule.last_error}")
    return Verdict.from_problems(f"alert rule {name} evaluated", problems,
                                 f"{name} appears in GET /api/v1/rules, health not 'err'", where)


def forecast_query_verdict(answers: Mapping[str, list[dict[str, Any]]], where: str) -> Verdict:
    """Prometheus answered every forecast query with at least one number."""
    problems = [] if answers else ["no forecast query to ask: check [monitoring] forecast_series"]
    for query, result in answers.items():
        if not result:
            problems.append(f"the forecast query {query} answered an empty vector")
        problems += [f"the forecast query {query} answered a non-number {r.get('value')}" for r in result
                     if math.isnan(_number(r))]
    return Verdict.from_problems("forecast queries answer", problems,
                                 "GET /api/v1/query with each predict_linear query returns ≥ 1 sample, each a number",
                                 where, answers={q: [r.get("value") for r in result] for q, result in answers.items()})


def _number(sample: Mapping[str, Any]) -> float:
    try:
        return float(sample["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        return math.nan


def exhaustion_verdicts(forecasts: Sequence[SeriesForecast], problems: Sequence[str], horizons: Mapping[str, Gate],
                        where: str) -> list[Verdict]:
    """Per resource, the soonest time to exhaustion among its sampled series against that resource's horizon."""
    if problems or not forecasts:
        reasons = list(problems) or ["no series to forecast: check [monitoring] forecast_series"]
        return [Verdict.from_problems("time to exhaustion", reasons, "a forecast needs samples", where)]
    verdicts = []
    for resource, gate in sorted(horizons.items()):
        mine = [f for f in forecasts if f.resource == resource]
        if not mine:
            verdicts.append(Verdict.from_problems("time to exhaustion", [f"no series of {resource} to forecast"],
                                                  "a forecast needs samples", where))
            continue
        soonest = min(mine, key=lambda f: f.exhaustion_s)
        measured = soonest.exhaustion_h if math.isinf(soonest.exhaustion_h) else round(soonest.exhaustion_h, 3)
        verdict = gate.check(measured, "time to exhaustion",
                             "min over the resource's series of (capacity − fitted usage at the last sample) / slope, "
                             "from a least-squares line through the samples of the forecast window (∞ when flat or "
                             "falling)", where=f"{where}: {soonest.name}", n=len(soonest.values))
        verdict.details["forecasts"] = [f.as_dict() for f in mine]
        verdicts.append(verdict)
    return verdicts


def alert_verdict(watch: AlertWatch) -> Verdict:
    """The alert was pending or firing for the model within the window after the provocation began."""
    problems = []
    answered = [r for r in watch.requests if r.get("kind") == "too long" and 200 <= r.get("status", 0) < 300]
    if answered:
        problems.append(f"{len(answered)} of the {len(watch.requests)} requests meant to fail were answered 2xx: the "
                        "burst caused fewer errors than intended (raise [monitoring] error_prompt_words)")
    if watch.state_at_start != "inactive":
        problems.append(f"{watch.alert} for {watch.model} was already {watch.state_before} before {watch.action} and "
                        f"still {watch.state_at_start} after waiting {watch.waited_to_clear_s:g} s for it to clear: an "
                        "alert raised by something else cannot show that this provocation raises it, so nothing was sent")
    elif not watch.seen:
        last = watch.timeline[-1]["state"] if watch.timeline else "never polled"
        problems.append(f"{watch.alert} for {watch.model} was not pending or firing within {watch.window_s:g} s of "
                        f"{watch.action} (state at the end: {last}, {watch.polls} polls)")
    note = (f"; it was {watch.state_before} before and became inactive within {watch.waited_to_clear_s:g} s, before "
            "the provocation began" if watch.state_before != "inactive" and watch.state_at_start == "inactive" else "")
    verdict = Verdict.from_problems(
        f"{watch.alert} raised", problems,
        f"GET /api/v1/alerts shows {watch.alert}{{model_name=\"{watch.model}\"}} pending or firing at most "
        f"{watch.window_s:g} s after the provocation began", f"Prometheus{note}",
        first_active_s=watch.first_active_s, first_state=watch.first_state, state_before=watch.state_before,
        state_at_start=watch.state_at_start, waited_to_clear_s=watch.waited_to_clear_s)
    return verdict
