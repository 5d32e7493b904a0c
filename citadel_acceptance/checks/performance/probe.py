"""Performance runs (SC2): the load engine pointed at the gateway or a model service, and their verdicts."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from citadel_acceptance.checks.monitoring import gateway_metrics as metrics_probe
from citadel_acceptance.checks.percentiles import percentile_verdict
from citadel_acceptance.load import (Bounds, EngineOptions, LoadRun, OpenLoop, chat_request_factory,
                                     latency_histogram_png, latency_timeline_png, no_progress,
                                     records_csv, stderr_progress)
from citadel_acceptance.config.thresholds import Gate, Thresholds
from citadel_acceptance.verdict import Verdict

if TYPE_CHECKING:
    from citadel_acceptance.run.session import RunSession

CACHE_METRIC = "citadel_cache_requests_total"
CPU_METRIC, MEMORY_METRIC, MEMORY_TOTAL_METRIC = ("system_cpu_usage_percent", "system_memory_usage_bytes",
                                                  "system_memory_total_bytes")


@dataclass
class ResourceSamples:
    """Host resource readings from the gateway's metrics, one per second of a load."""

    cpu_percent: list[float] = field(default_factory=list)
    memory_percent: list[float] = field(default_factory=list)
    rate_rps: float = 0.0  # the normal load applied meanwhile
    rate_source: str = ""  # where that rate comes from (normal_rate)


def unique_prompts(prompt: str, count: int) -> list[str]:
    """The same question with a unique reference each: no response cache may answer a measured request."""
    run = uuid.uuid4().hex[:6]
    return [f"{prompt} (reference {run}-{i})" for i in range(count)]


def _options(base_url: str, verify: Any, timeout_s: float, quiet: bool) -> EngineOptions:
    return EngineOptions(base_url=base_url, timeout_s=timeout_s, verify=verify,
                         progress=no_progress if quiet else stderr_progress)


def model_load(session: RunSession, model: str, rate: float, stream: bool = True, base_url: str | None = None,
               api_key: str | None = None, path: str | None = None, max_tokens: int | None = None,
               upstream_model: str | None = None, quiet: bool = False) -> LoadRun:
    """An open-loop chat load on one model for the profile's warm-up plus window (LoadSettings.window_at), bounded
    in count too, sent from where `[load]` places it (engine, workers)."""
    settings = session.profile.load
    gateway = session.profile.gateway
    total_s = settings.warmup_s + settings.window_at(rate)
    count = int(rate * total_s) + 2
    sent_model = upstream_model or session.profile.served_id(model)
    factory = chat_request_factory(sent_model, unique_prompts(settings.prompt, count),
                                   max_tokens=max_tokens or settings.max_tokens, stream=stream,
                                   api_key=api_key if api_key is not None else session.profile.secret("api_key"),
                                   path=path or gateway.chat_path, extra={"temperature": 0})
    from citadel_acceptance.load import run_load

    schedule = OpenLoop(rate=rate, arrivals="poisson" if settings.arrivals == "poisson" else "constant",
                        seed=settings.seed)
    bounds = Bounds(duration_s=total_s, max_requests=count, warmup_s=settings.warmup_s)
    return run_load(factory, schedule, bounds, _options(base_url or gateway.base_url, gateway.verify_tls,
                                                        gateway.timeout_s, quiet), placement=settings.placement)


def evidence_of(run: LoadRun, title: str) -> dict[str, Any]:
    """The attachments of a load run: summary with formulas, per-request CSV, histogram and timeline PNGs."""
    return {"summary (formulas included)": run.summary().as_dict(), "load": run.describe(),
            "requests.csv": records_csv(run.records).decode("utf-8"),
            "latency histogram": latency_histogram_png(run.measured, title=f"{title}: latency"),
            "latency over time": latency_timeline_png(run.records, title=f"{title}: latency over the run")}


def p95_verdict(run: LoadRun, gate: Gate, name: str, confidence: float) -> Verdict:
    """p95 of E2E latency (from the send) in the window, in ms, at `confidence`, against the gate."""
    return percentile_verdict(gate, run.summary().e2e.samples, confidence, name,
                              "p95 of (last byte − request sent) over the window's successful requests; the same "
                              "from the scheduled send is in the summary", scale=1000)


def throughput_verdict(run: LoadRun, gate: Gate) -> Verdict:
    """Successful requests per second of the window against the rated rate: 5 % tolerance for Poisson spread, less
    one request of the window (a window of W seconds holds one request more or less of a schedule: its resolution)."""
    summary = run.summary()
    measured = round(summary.throughput, 3)
    resolution = 1 / summary.window_s if summary.window_s > 0 else 0.0
    # the tolerance is part of the stated target (spec and applied alike), so a deployment meeting the plan's rate
    # is not "relaxed" by it: only an override that lowers the rate is
    tolerance = Gate(**{**gate.__dict__, "applied": round(max(0.0, gate.applied * 0.95 - resolution), 5),
                        "spec": round(max(0.0, gate.spec * 0.95 - resolution), 5)})
    verdict = tolerance.check(measured, "sustained throughput",
                              "successful requests in the window / window seconds (≥ 95 % of the offered rate, less "
                              "one request of the window)", n=summary.succeeded)
    return verdict


def error_rate_verdict(run: LoadRun, gate: Gate) -> Verdict:
    """Errors over all requests sent in the window, in %, against the target."""
    summary = run.summary()
    verdict = gate.check(round(summary.error_rate * 100, 3), "error rate",
                         "(non-2xx + broken streams + timeouts) / requests sent in the window × 100", n=summary.sent)
    verdict.details["error_kinds"] = summary.error_kinds
    return verdict


def streaming_problems(run: LoadRun) -> list[str]:
    """TTFT and TPOT were measurable for every successful request (TPOT needs the server's usage)."""
    summary = run.summary()
    problems = [] if summary.succeeded else ["no request succeeded, nothing to measure"]
    if summary.ttft.n < summary.succeeded:
        problems.append(f"TTFT measured for {summary.ttft.n} of {summary.succeeded} successful requests")
    no_usage = sum(1 for r in run.measured if r.ok and r.output_tokens is None)
    if no_usage:
        problems.append(f"{no_usage} of {summary.succeeded} answers carried no usage: TPOT undefined for them")
    if summary.errors:
        problems.append(f"{summary.errors} of {summary.sent} streams failed: {summary.error_kinds}")
    return problems


def overhead_verdicts(direct: LoadRun, through: LoadRun, gate: Gate) -> list[Verdict]:
    """Both runs clean, then the difference of medians and of p95s of E2E latency (through − direct) in ms."""
    runs = {"direct": direct.summary(), "through the gateway": through.summary()}
    problems = [f"{name}: {s.errors} of {s.sent} requests failed {s.error_kinds}" for name, s in runs.items() if s.errors]
    problems += [f"{name}: no successful request to compare" for name, s in runs.items() if not s.e2e.n]
    clean = Verdict.from_problems("overhead runs are error-free", problems, "errors == 0 in both runs", "the model service")
    if problems:
        return [clean]
    d, g = runs["direct"].e2e, runs["through the gateway"].e2e
    verdicts = [clean]
    for p, label in ((50, "median"), (95, "p95")):
        diff = round(((g.percentile(p).value or 0) - (d.percentile(p).value or 0)) * 1000, 2)
        verdicts.append(gate.check(diff, f"gateway overhead ({label})",
                                   f"{label}(E2E through the gateway) − {label}(E2E direct), same requests and rate",
                                   n=min(d.n, g.n)))
    return verdicts


def resource_verdict(samples: list[float], gate: Gate, name: str) -> Verdict:
    """The mean of the readings over the normal load against the gate: the level the load sustains.

    Not a high percentile: a model served on CPU takes every core for each answer, so at any load single seconds
    read 100 % (on a slow machine of this kind the p95 of 1 s readings was 77-91 % at a third of capacity, the
    mean about a third of that); a sustained level (a busy neighbour, a leak) moves the mean. No reading (the
    metric absent from every scrape): no data, failed.
    """
    measured = round(sum(samples) / len(samples), 2) if samples else float("inf")
    return gate.check(measured, name, "mean of the 1 s readings of the gateway's system metrics during the normal load",
                      where="" if samples else "the gateway's /metrics (the metric was in no scrape)", n=len(samples))


@dataclass
class CacheProbe:
    """The same deterministic question asked twice, and the cache counters around the second ask."""

    first_ms: float
    second_ms: float
    first_status: int
    second_status: int
    hits: float
    second_header: str


def ask_twice(session: RunSession, model: str) -> CacheProbe:
    """Ask one deterministic question twice (the cache may answer the second), counting cache hits (the model under
    the deployment's id for it, in the request and in the counter's label)."""
    prompt = unique_prompts(session.profile.probe.prompt, 1)[0]
    max_tokens = session.profile.probe.max_tokens
    served = session.profile.served_id(model)
    first = session.gateway.chat(served, prompt, max_tokens, cacheable=True)
    status, before = session.gateway.get_text(session.profile.gateway.metrics_path)
    second = session.gateway.chat(served, prompt, max_tokens, cacheable=True)
    status, after = session.gateway.get_text(session.profile.gateway.metrics_path)
    hits = metrics_probe.delta(metrics_probe.parse(before), metrics_probe.parse(after), CACHE_METRIC,
                               model_name=served, result="hit")
    return CacheProbe(first.elapsed_ms, second.elapsed_ms, first.status, second.status, hits,
                      second.headers.get("x-cache", ""))


def cache_problems(probe: CacheProbe) -> list[str]:
    """The second answer came from the cache (counter +1) and faster than the first."""
    problems = [f"expected 200 twice, got {probe.first_status} and {probe.second_status}"] \
        if (probe.first_status, probe.second_status) != (200, 200) else []
    if probe.hits != 1:
        problems.append(f"expected the cache-hit counter to grow by 1 for the repeated question, it grew by {probe.hits:g}")
    if probe.second_ms >= probe.first_ms:
        problems.append(f"expected the repeated answer to be faster: first {probe.first_ms:.1f} ms, "
                        f"repeated {probe.second_ms:.1f} ms")
    return problems


def normal_rate(session: RunSession) -> tuple[float, str]:
    """The normal load's rate and where it comes from: the profile's `normal_rps`, or, where the profile sets
    `normal_capacity_share` and the target was calibrated, that share of the measured capacity when it is lower."""
    settings = session.profile.load
    return session.thresholds.capped_rate(settings.normal_rps, settings.normal_capacity_share, "load.normal_rps")


def serve_normal_load(session: RunSession) -> tuple[LoadRun, ResourceSamples]:
    """The normal load (normal_rate) on the first model while the host's resources are read every second."""
    import threading

    samples = ResourceSamples()
    samples.rate_rps, samples.rate_source = normal_rate(session)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            status, text = session.gateway.get_text(session.profile.gateway.metrics_path)
            if status == 200:
                values = metrics_probe.parse(text)
                names = {name for name, _ in values}
                if CPU_METRIC in names:  # an absent metric is no reading, never 0 %
                    samples.cpu_percent.append(metrics_probe.total(values, CPU_METRIC))
                total = metrics_probe.total(values, MEMORY_TOTAL_METRIC)
                if total and MEMORY_METRIC in names:
                    samples.memory_percent.append(100 * metrics_probe.total(values, MEMORY_METRIC) / total)
            done.wait(1.0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        run = model_load(session, sorted(session.profile.models)[0], samples.rate_rps, quiet=True)
    finally:
        done.set()
        sampler.join(timeout=5)
    return run, samples


def direct_and_through(session: RunSession, model: str, rate: float) -> tuple[LoadRun, LoadRun]:
    """The same small requests straight to the model's service (with its own key where the profile names one), then
    through the gateway, at `rate`. Returns (direct run, run through the gateway)."""
    name = session.profile.models[model].service
    service = session.profile.services[name]
    direct_url, upstream = service.url, service.model or session.profile.served_id(model)
    direct = model_load(session, model, rate, stream=False, base_url=direct_url,
                        api_key=session.profile.service_key(name), path="/v1/chat/completions", max_tokens=4,
                        upstream_model=upstream, quiet=True)
    through = model_load(session, model, rate, stream=False, max_tokens=4, quiet=True)
    return direct, through


def streaming_target_problems(run: LoadRun, targets: Thresholds, model: str) -> list[str]:
    """TTFT and TPOT p95 against `latency.ttft_ms` and `latency.tpot_ms`, where the profile sets them."""
    problems = []
    summary = run.summary()
    for key, distribution in (("latency.ttft_ms", summary.ttft), ("latency.tpot_ms", summary.tpot)):
        if targets.defines(key):
            verdict = percentile_verdict(targets.resolve(key, model=model), distribution.samples, targets.confidence(),
                                         key, f"p95 of {distribution.formula}", scale=1000)
            if not verdict.passed:
                problems.append(verdict.explanation)
    return problems
