"""What the SC3 scenarios do to the target and read back from its monitoring.

Counted requests (the gateway's own counters read around them), an error burst and a latency spike
while Prometheus' alerts are watched, the first scrape of every target, and the sampled series that
the suite forecasts. Verdicts live in `monitoring_gates`.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from citadel_acceptance.checks.monitoring import gateway_metrics as metrics_probe
from citadel_acceptance.checks.monitoring.forecast import SeriesForecast
from citadel_acceptance.checks.performance.probe import unique_prompts
from citadel_acceptance.checks.monitoring.prometheus import Alert, PrometheusProbe, Target
from citadel_acceptance.config.monitoring import MonitoringSettings
from citadel_acceptance.config.thresholds import Gate, Thresholds

if TYPE_CHECKING:
    from citadel_acceptance.run.session import RunSession

SUCCESS, ERROR = "success", "error"
REQUESTS_METRIC, DURATION_COUNT = "model_requests_total", "model_inference_duration_seconds_count"


def wait_for_first_scrapes(probe: PrometheusProbe, jobs: tuple[str, ...], max_wait_s: float = 60.0) -> list[Target]:
    """The active targets once every job of `jobs` has targets and each was scraped once (or the wait is over).

    A freshly started Prometheus hands discovered targets to its scrapers after about 5 s; a target never
    scraped reports health "unknown", and first scrapes are spread over one scrape interval. The wait is
    bounded by twice the longest interval plus 10 s (and `max_wait_s`).
    """
    intervals = probe.scrape_intervals()
    deadline = time.monotonic() + min(max_wait_s, 2 * max([intervals.get(j, 10.0) for j in jobs] or [10.0]) + 10)
    while True:
        targets = probe.targets()
        found = {t.job for t in targets}
        scraped = all(t.health != "unknown" for t in targets if t.job in jobs)
        if (scraped and set(jobs) <= found) or time.monotonic() >= deadline:
            return targets
        time.sleep(0.5)


@dataclass
class CountedRequests:
    """Requests sent to one model, what the clients saw, and the gateway's metrics before and after."""

    model: str
    outcomes: list[dict[str, Any]] = field(default_factory=list)  # kind, status, elapsed_ms, error
    before: dict[metrics_probe.Sample, float] = field(default_factory=dict)
    after: dict[metrics_probe.Sample, float] = field(default_factory=dict)
    metrics_url: str = ""

    @property
    def sent(self) -> int:
        """Requests sent."""
        return len(self.outcomes)

    @property
    def answered(self) -> int:
        """Requests answered 2xx."""
        return sum(1 for o in self.outcomes if 200 <= o["status"] < 300)

    @property
    def failed(self) -> int:
        """Requests that got no 2xx answer."""
        return self.sent - self.answered

    def grew(self, name: str, **labels: str) -> float:
        """How much a metric of the gateway grew for this model between the two reads."""
        return metrics_probe.delta(self.before, self.after, name, model_name=self.model, **labels)


def too_long_prompt(words: int) -> str:
    """A prompt longer than the model's context: the model refuses it, which is an inference error."""
    return " ".join(["monitoring"] * words)


def read_gateway_metrics(session: RunSession) -> dict[metrics_probe.Sample, float]:
    """Every sample of the gateway's /metrics, parsed; a failed read raises with the status."""
    return metrics_probe.parse(gateway_metrics_text(session))


def gateway_metrics_text(session: RunSession) -> str:
    """The gateway's /metrics text, as Prometheus scrapes it; a failed read raises with the status."""
    status, text = session.gateway.get_text(session.profile.gateway.metrics_path)
    if status != 200:
        raise AssertionError(f"expected 200 from GET {session.profile.gateway.metrics_path}, got {status}: {text[:200]}")
    return text


def send_counted(session: RunSession, model: str, total: int, failing: int) -> CountedRequests:
    """`total` chat requests to `model`, `failing` of them with a prompt too long for it, metrics read around them.

    Every prompt is unique, so no response cache answers instead of the model.
    """
    settings = session.profile.monitoring
    max_tokens = session.profile.load.max_tokens
    run = CountedRequests(model=model, metrics_url=f"{session.profile.gateway.base_url}{session.profile.gateway.metrics_path}")
    run.before = read_gateway_metrics(session)
    prompts = unique_prompts(session.profile.probe.prompt, total - failing)
    kinds = ["too long"] * failing + ["ordinary"] * (total - failing)
    kinds = [kinds[i] for i in sorted(range(total), key=lambda i: (i * 7919) % total)]  # interleaved, reproducibly
    for kind in kinds:
        prompt = too_long_prompt(settings.error_prompt_words) if kind == "too long" else prompts.pop()
        exchange = session.gateway.chat(model, prompt, max_tokens)
        run.outcomes.append({"kind": kind, "status": exchange.status, "elapsed_ms": round(exchange.elapsed_ms, 1),
                             "request_id": exchange.request_id, "error": exchange.error or _error_message(exchange.body)})
    run.after = read_gateway_metrics(session)
    return run


def _error_message(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message", ""))[:200]
    return ""


@dataclass
class AlertWatch:
    """An alert watched for one model while something was done to provoke it."""

    alert: str
    model: str
    window_s: float
    action: str
    started: float = 0.0  # unix time the provocation began
    state_before: str = "inactive"  # when the watch began
    state_at_start: str = "inactive"  # when the provocation was to begin, after waiting (bounded) for it to clear
    waited_to_clear_s: float = 0.0
    first_active_s: float | None = None  # seconds after `started` it was first seen pending or firing
    first_state: str = ""
    timeline: list[dict[str, Any]] = field(default_factory=list)  # elapsed_s, state, value
    requests: list[dict[str, Any]] = field(default_factory=list)  # what the provocation sent
    polls: int = 0

    @property
    def seen(self) -> bool:
        """Whether the alert was pending or firing for the model within the window."""
        return self.first_active_s is not None and self.first_active_s <= self.window_s


def alert_state(alerts: list[Alert], name: str, model: str) -> tuple[str, str]:
    """(state, value) of alert `name` for `model` (firing wins over pending); ("inactive", "") when absent."""
    states = [(a.state, a.value) for a in alerts if a.name == name and a.labels.get("model_name") == model]
    for wanted in ("firing", "pending"):
        for state, value in states:
            if state == wanted:
                return state, value
    return "inactive", ""


def watch_alert_during(probe: PrometheusProbe, watch: AlertWatch, provoke: Callable[[threading.Event], None],
                       poll_s: float = 0.5) -> AlertWatch:
    """Run `provoke` in a thread and poll the alerts until the alert is active or the window is over.

    An alert already pending or firing is waited for, up to the window, to become inactive first: only one that
    goes from inactive to active after the provocation began was raised by it. Where it stays active, nothing is
    provoked (`state_at_start` says so). `provoke` gets an event that is set once the alert was seen, so that it
    can stop early.
    """
    watch.state_before, _ = alert_state(probe.alerts(), watch.alert, watch.model)
    watch.state_at_start, waiting = watch.state_before, time.monotonic()
    while watch.state_at_start != "inactive" and time.monotonic() - waiting < watch.window_s:
        time.sleep(poll_s)
        watch.state_at_start, _ = alert_state(probe.alerts(), watch.alert, watch.model)
    watch.waited_to_clear_s = round(time.monotonic() - waiting, 2)
    if watch.state_at_start != "inactive":
        return watch
    seen = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            provoke(seen)
        except BaseException as exc:  # reported after the watch, not lost in the thread
            failure.append(exc)

    worker = threading.Thread(target=run, name=f"provoke {watch.alert}", daemon=True)
    watch.started = time.time()
    worker.start()
    last_report = time.monotonic()
    while True:
        elapsed = time.time() - watch.started
        state, value = alert_state(probe.alerts(), watch.alert, watch.model)
        watch.polls += 1
        if not watch.timeline or watch.timeline[-1]["state"] != state:
            watch.timeline.append({"elapsed_s": round(elapsed, 2), "state": state, "value": value})
        if state != "inactive" and watch.first_active_s is None:
            watch.first_active_s, watch.first_state = round(elapsed, 2), state
            seen.set()
        if seen.is_set() or elapsed > watch.window_s:
            break
        if time.monotonic() - last_report >= 5:
            print(f"  ... {watch.alert} for {watch.model}: {state} after {elapsed:.0f} s "
                  f"(window {watch.window_s:g} s)", flush=True)
            last_report = time.monotonic()
        time.sleep(poll_s)
    seen.set()
    worker.join(timeout=max(30.0, watch.window_s))
    if failure:
        raise failure[0]
    return watch


def error_burst(session: RunSession, model: str, count: int) -> AlertWatch:
    """`count` requests to `model` that the model refuses (prompts too long), spread over the burst time,
    while the error alert is watched for the profile's window (counted from the burst's start)."""
    settings = session.profile.monitoring
    watch = AlertWatch(settings.error_alert, model, settings.error_alert_window_s,
                       f"{count} requests refused by the model over {settings.error_burst_s:g} s")
    max_tokens = session.profile.load.max_tokens

    def provoke(stop: threading.Event) -> None:
        gap = settings.error_burst_s / max(1, count - 1)
        for i in range(count):
            exchange = session.gateway.chat(model, too_long_prompt(settings.error_prompt_words), max_tokens)
            watch.requests.append({"kind": "too long", "status": exchange.status,
                                   "elapsed_ms": round(exchange.elapsed_ms, 1), "sent_s": round(time.time() - watch.started, 2)})
            if i < count - 1:
                stop.wait(max(0.0, gap - exchange.elapsed_ms / 1000))

    return watch_alert_during(session.prometheus, watch, provoke)


def usual_traffic(session: RunSession, model: str) -> list[dict[str, Any]]:
    """Short questions to `model` at the profile's normal rate for the anomaly baseline time."""
    settings = session.profile.monitoring
    load = session.profile.load
    count = max(2, int(settings.anomaly_baseline_s * load.normal_rps))
    outcomes: list[dict[str, Any]] = []
    started = time.monotonic()
    for i, prompt in enumerate(unique_prompts(session.profile.probe.prompt, count)):
        time.sleep(max(0.0, started + i / load.normal_rps - time.monotonic()))
        exchange = session.gateway.chat(model, prompt, load.max_tokens)
        outcomes.append({"kind": "usual", "status": exchange.status, "elapsed_ms": round(exchange.elapsed_ms, 1)})
    return outcomes


def latency_spike(session: RunSession, model: str) -> AlertWatch:
    """Long answers from `model`, one after the other, for the spike time (or until the anomaly alert shows),
    while the anomaly alert is watched for the profile's window (counted from the spike's start)."""
    settings = session.profile.monitoring
    watch = AlertWatch(settings.anomaly_alert, model, settings.anomaly_alert_window_s,
                       f"answers of {settings.anomaly_spike_max_tokens} tokens for up to {settings.anomaly_spike_s:g} s")

    def provoke(stop: threading.Event) -> None:
        spike_end = time.monotonic() + settings.anomaly_spike_s
        for long_prompt in unique_prompts(settings.anomaly_spike_prompt, 10_000):
            if stop.is_set() or time.monotonic() >= spike_end:
                return
            exchange = session.gateway.chat(model, long_prompt, settings.anomaly_spike_max_tokens)
            tokens = (exchange.body or {}).get("usage", {}).get("completion_tokens") if isinstance(exchange.body, dict) else None
            watch.requests.append({"kind": "long answer", "status": exchange.status, "completion_tokens": tokens,
                                   "elapsed_ms": round(exchange.elapsed_ms, 1), "sent_s": round(time.time() - watch.started, 2)})

    return watch_alert_during(session.prometheus, watch, provoke)


def sample_forecasts(session: RunSession) -> tuple[list[SeriesForecast], list[str]]:
    """Each `[monitoring.forecast_series]` resource sampled from Prometheus over the forecast window and fitted.

    Waits (within the window) until every series holds the minimum number of samples; returns the
    forecasts and the problems met (a series or its capacity missing, too few samples).
    """
    settings = session.profile.monitoring
    probe: PrometheusProbe = session.prometheus
    step = max(1.0, settings.forecast_window_s / 240)
    deadline = time.monotonic() + min(settings.forecast_window_s, settings.forecast_min_points * step + 10)
    while True:
        forecasts, problems, short = _sample_once(probe, settings, step)
        if not short or time.monotonic() >= deadline:
            return forecasts, problems + short
        time.sleep(step)


def _sample_once(probe: PrometheusProbe, settings: MonitoringSettings,
                 step: float) -> tuple[list[SeriesForecast], list[str], list[str]]:
    end = time.time()
    forecasts, problems, short = [], [], []
    for resource, (used_metric, capacity_metric) in sorted(settings.forecast_series.items()):
        series = probe.query_range(used_metric, end - settings.forecast_window_s, end, step)
        capacities = {_key(s["metric"]): float(s["value"][1]) for s in probe.query(capacity_metric)}
        if not series:  # a Prometheus that just started has none yet: waited for like too few samples
            short.append(f"Prometheus holds no samples of {used_metric} in the last {settings.forecast_window_s:g} s")
        for s in series:
            labels = {k: v for k, v in s["metric"].items() if k != "__name__"}
            points = [(float(t), float(v)) for t, v in s["values"] if not math.isnan(float(v))]
            capacity = capacities.get(_key(s["metric"]))
            if capacity is None:
                problems.append(f"{capacity_metric} has no sample with the labels of {used_metric} {labels}")
                continue
            if len(points) < settings.forecast_min_points:
                short.append(f"{used_metric} {labels} has {len(points)} samples in the last "
                             f"{settings.forecast_window_s:g} s, fewer than the {settings.forecast_min_points} a forecast needs")
                continue
            forecasts.append(SeriesForecast.fitted(resource, used_metric, capacity_metric, labels,
                                                   [t for t, _ in points], [v for _, v in points], capacity))
    return forecasts, problems, short


def sample_rows(forecasts: list[SeriesForecast]) -> list[dict[str, Any]]:
    """Every sample of every forecast, with its fitted value (the evidence's CSV)."""
    return [row for forecast in forecasts for row in forecast.sample_rows()]


def _key(metric: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in metric.items() if k != "__name__"))


def forecast_horizons(session: RunSession, targets: Thresholds) -> dict[str, Gate]:
    """The horizon gate of each forecast resource (`monitoring.forecast_horizon_h`, per resource)."""
    return {resource: targets.resolve("monitoring.forecast_horizon_h", model=resource)
            for resource in sorted(session.profile.monitoring.forecast_series)}


def ask_forecasts(session: RunSession, horizons_h: dict[str, float]) -> dict[str, list[dict[str, Any]]]:
    """Prometheus' own forecast (predict_linear over the forecast window) of each resource at its horizon."""
    settings = session.profile.monitoring
    queries = [f"predict_linear({settings.forecast_series[resource][0]}[{int(settings.forecast_window_s)}s], "
               f"{int(horizon_h * 3600)})" for resource, horizon_h in sorted(horizons_h.items())]
    return {query: session.prometheus.query(query) for query in queries}
