"""Health reports: what the gateway says about its model services, and what a direct look finds.

Two shapes are read (the profile's `[health] shape` picks one, or "auto" takes whichever the report holds):

- current: `{"models": {id: {"service", "status"}}, "services": {name: {"status"}}}`;
- plan: `{"service", "status", "timestamp", "model_services": {key: {"status", "url"}}}`, where a key is a served
  model id (the plan's guide) or, where it names one of the profile's [services], that service.

Every reported word is read through the profile's health words as healthy, unhealthy or unreachable; a word of no
list is kept as it was written and named in the problem. Models are looked up under the id the deployment serves
them as (`aliases`: plan id -> served id) and reported under the plan's id.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import httpx

from citadel_acceptance.config.endpoints import HealthSettings, model_label

STATES = ("healthy", "unhealthy", "unreachable")
WORST_FIRST = ("unreachable", "unhealthy", "healthy")
DEFAULT_HEALTH = HealthSettings()


def routes_of(profile: Any) -> dict[str, str]:
    """Model id -> service, the embedding model included (a plan-shaped report may speak for its service)."""
    embedding = profile.embedding_model
    return profile.routes | ({embedding: profile.embeddings.service} if embedding and profile.embeddings.service else {})


def direct_status(service_url: str, timeout_s: float = 3.0, api_key: str = "") -> str:
    """Look at a model service without the gateway: GET /v1/models (with `Authorization: Bearer api_key` when a key
    is given). Returns "healthy" for a 200, "unhealthy" for any other status, "unreachable" when nothing answered."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        response = httpx.get(f"{service_url}/v1/models", headers=headers, timeout=timeout_s)
    except httpx.HTTPError:
        return "unreachable"
    return "healthy" if response.status_code == 200 else "unhealthy"


@dataclass(frozen=True)
class Reported:
    """One entry's status: the word the report used and the state the profile's words make of it."""

    word: str
    state: str | None  # healthy / unhealthy / unreachable; None for a word of no list

    def describe(self) -> str:
        """`'healthy'`, `'healthy' (reported as 'ok')`, or `'green' (not a health word of the profile)`."""
        if self.state is None:
            return f"{self.word!r} (not a health word of the profile)"
        return f"{self.state!r}" if self.word == self.state else f"{self.state!r} (reported as {self.word!r})"


@dataclass
class HealthReading:
    """A health report read in its shape: an entry per model and per service of the profile that it covers."""

    shape: str = ""  # "current" or "plan"; "" when the body is neither
    problem: str = ""  # why the body could not be read ("" when it could)
    models: dict[str, Reported] = field(default_factory=dict)  # plan model id -> status
    model_services: dict[str, str | None] = field(default_factory=dict)  # plan model id -> service named (None: none)
    services: dict[str, Reported] = field(default_factory=dict)  # service name -> status


def _reported(entry: Any, settings: HealthSettings) -> Reported | None:
    """The status of one report entry read through the profile's words; None when the entry is not an object."""
    if not isinstance(entry, dict):
        return None
    word = str(entry.get("status"))
    return Reported(word, settings.state_of(word))


def _shape_of(body: Any, settings: HealthSettings) -> tuple[str, str]:
    """(shape, problem): which shape to read the body in, or why it cannot be read."""
    if not isinstance(body, dict):
        return "", f"expected a JSON health report, got {str(body)[:160]!r}"
    wanted = {"current": "models", "plan": "model_services"}
    if settings.shape in wanted:
        key = wanted[settings.shape]
        if isinstance(body.get(key), dict):
            return settings.shape, ""
        return "", (f"expected {key!r} with one entry per model ([health] shape = {settings.shape!r}), "
                    f"got {body.get(key)!r}")
    for shape, key in (("plan", "model_services"), ("current", "models")):
        if isinstance(body.get(key), dict):
            return shape, ""
    return "", ("expected 'models' (one entry per model) or the plan's 'model_services', "
                f"got the keys {sorted(map(str, body))}")


def read_report(body: Any, routes: Mapping[str, str], settings: HealthSettings = DEFAULT_HEALTH,
                aliases: Mapping[str, str] | None = None) -> HealthReading:
    """The report read for the profile's models (`routes`: plan model id -> service name).

    A model's entry is the one under its served id (`aliases`, else the plan's id); in the plan's shape, failing
    that, the one under its service's name. A service's status is its own entry (`services` in the current shape,
    an entry keyed by its name in the plan's), else the worst status of the models routed to it (unreachable, then
    unhealthy, then healthy; a word of no list wins, so it is named), else it is absent.
    """
    aliases = aliases or {}
    shape, problem = _shape_of(body, settings)
    reading = HealthReading(shape=shape, problem=problem)
    if problem:
        return reading
    entries = body["model_services"] if shape == "plan" else body["models"]
    own = body.get("services") if shape == "current" else entries
    service_entries = own if isinstance(own, dict) else {}
    for model, service in routes.items():
        entry = entries.get(aliases.get(model) or model)
        if entry is None and shape == "plan":
            entry = entries.get(service)
        reported = _reported(entry, settings)
        if reported is not None:
            reading.models[model] = reported
            reading.model_services[model] = entry.get("service") if shape == "current" else None
    named = set(map(str, service_entries))
    if shape == "plan":  # keys that are served model ids are models' entries, not services'
        named -= {aliases.get(m) or m for m in routes} - set(routes.values())
    for service in sorted((set(routes.values()) | named) - {""}):
        reported = _reported(service_entries.get(service), settings)
        if reported is None:
            reported = _worst([reading.models[m] for m, s in routes.items() if s == service and m in reading.models])
        if reported is not None:
            reading.services[service] = reported
    return reading


def _worst(statuses: list[Reported]) -> Reported | None:
    """The worst of several statuses (a word of no list first, then unreachable, unhealthy, healthy); None for none."""
    if not statuses:
        return None
    return min(statuses, key=lambda r: WORST_FIRST.index(r.state) if r.state in WORST_FIRST else -1)


def report_problems(body: Any, models: Mapping[str, str], settings: HealthSettings = DEFAULT_HEALTH,
                    aliases: Mapping[str, str] | None = None) -> list[str]:
    """The report names every model of the profile (`models`: plan id -> service) in a state the profile's words
    know, and, where its shape names services (the current one), the service the profile routes it to. Returns the
    problems found, [] when there are none."""
    aliases = aliases or {}
    reading = read_report(body, models, settings, aliases)
    if reading.problem:
        return [reading.problem]
    problems = []
    for model, service in sorted(models.items()):
        label = model_label(model, aliases.get(model, ""))
        reported = reading.models.get(model)
        if reported is None:
            problems.append(f"model {label} is missing from the health report")
            continue
        named = reading.model_services.get(model)
        if reading.shape == "current" and named != service:
            problems.append(f"model {label}: expected service {service!r}, reported {named!r}")
        if reported.state is None:
            problems.append(f"model {label}: status {reported.word!r} is none of the profile's health words "
                            f"{_known_words(settings)}")
    return problems


def healthy_problems(body: Any, models: Mapping[str, str], settings: HealthSettings = DEFAULT_HEALTH,
                     aliases: Mapping[str, str] | None = None) -> list[str]:
    """Every model of the profile is reported healthy. Returns one problem per model that is not, naming the word
    the report used."""
    aliases = aliases or {}
    reading = read_report(body, models, settings, aliases)
    if reading.problem:
        return [reading.problem]
    problems = []
    for model in sorted(models):
        reported = reading.models.get(model)
        if reported is None or reported.state != "healthy":
            seen = "missing" if reported is None else reported.describe()
            problems.append(f"model {model_label(model, aliases.get(model, ''))} is reported {seen}")
    return problems


def model_states(body: Any, settings: HealthSettings = DEFAULT_HEALTH, routes: Mapping[str, str] | None = None,
                 aliases: Mapping[str, str] | None = None) -> dict[str, str]:
    """Model id -> its state (healthy / unhealthy / unreachable, or the reported word where it is of no list).

    With `routes` (plan id -> service), the profile's models under their plan ids; without, every entry of the
    report under the key it has there."""
    reading = read_report(body, routes if routes is not None else _every_entry(body, settings), settings, aliases)
    return {model: r.state or r.word for model, r in reading.models.items()}


def service_states(body: Any, settings: HealthSettings = DEFAULT_HEALTH, routes: Mapping[str, str] | None = None,
                   aliases: Mapping[str, str] | None = None) -> dict[str, str]:
    """Service name -> its state (healthy / unhealthy / unreachable, or the reported word where it is of no list),
    as `read_report` derives it; without `routes` only the services the report names itself."""
    reading = read_report(body, routes or {}, settings, aliases)
    return {service: r.state or r.word for service, r in reading.services.items()}


def _every_entry(body: Any, settings: HealthSettings) -> dict[str, str]:
    """Every key of the report's model entries, as routes to no service (for a reading without the profile's)."""
    shape, problem = _shape_of(body, settings)
    if problem:
        return {}
    entries = body["model_services"] if shape == "plan" else body["models"]
    return {str(key): "" for key in entries}


def _known_words(settings: HealthSettings) -> str:
    """The profile's health words, by state, as a message lists them."""
    return "(" + "; ".join(f"{state}: {', '.join(words)}" for state, words in settings.words().items()) + ")"


def disagreements(reported: Mapping[str, str], observed: Mapping[str, str]) -> list[str]:
    """Services whose reported state differs from what a direct look found. Returns one problem per service."""
    return [f"service {name!r}: the gateway reports {reported.get(name, 'nothing')!r}, a direct check finds {state!r}"
            for name, state in sorted(observed.items()) if reported.get(name) != state]


def agreement_problems(body: Any, observed: Mapping[str, str], routes: Mapping[str, str],
                       settings: HealthSettings = DEFAULT_HEALTH,
                       aliases: Mapping[str, str] | None = None) -> list[str]:
    """The report says of each service what a direct look found (`observed`: service -> state). Returns one problem
    per service where it does not, naming the word the report used."""
    reading = read_report(body, routes, settings, aliases)
    if reading.problem:
        return [reading.problem]
    problems = []
    for name, state in sorted(observed.items()):
        reported = reading.services.get(name)
        if reported is None or reported.state != state:
            seen = "nothing" if reported is None else reported.describe()
            problems.append(f"service {name!r}: the gateway reports {seen}, a direct check finds {state!r}")
    return problems


def outage_problems(body: Any, service: str, models: Mapping[str, str], settings: HealthSettings = DEFAULT_HEALTH,
                    aliases: Mapping[str, str] | None = None) -> list[str]:
    """The stopped `service`, and every model routed to it (`models`: plan id -> service), are reported unreachable.
    Returns the problems found, each naming the word the report used."""
    aliases = aliases or {}
    reading = read_report(body, models, settings, aliases)
    if reading.problem:
        return [reading.problem]
    problems = []
    reported_service = reading.services.get(service)
    if reported_service is None or reported_service.state != "unreachable":
        seen = "nothing" if reported_service is None else reported_service.describe()
        problems.append(f"service {service!r} is stopped but reported {seen}, expected 'unreachable'")
    for model in sorted(m for m, s in models.items() if s == service):
        reported = reading.models.get(model)
        if reported is None or reported.state != "unreachable":
            seen = "missing" if reported is None else reported.describe()
            problems.append(f"model {model_label(model, aliases.get(model, ''))} runs on the stopped service but "
                            f"is reported {seen}")
    return problems
