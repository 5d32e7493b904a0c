"""Health reports: what the gateway says about its model services, and what a direct look finds."""
from __future__ import annotations

from typing import Any, Mapping

import httpx

STATES = ("healthy", "unhealthy", "unreachable")


def direct_status(service_url: str, timeout_s: float = 3.0) -> str:
    """Look at a model service without the gateway: GET /v1/models -> healthy / unhealthy / unreachable."""
    try:
        response = httpx.get(f"{service_url}/v1/models", timeout=timeout_s)
    except httpx.HTTPError:
        return "unreachable"
    return "healthy" if response.status_code == 200 else "unhealthy"


def report_problems(body: Any, models: Mapping[str, str]) -> list[str]:
    """The report names every model of the profile, with its service, each in a known state."""
    if not isinstance(body, dict):
        return [f"expected a JSON health report, got {str(body)[:160]!r}"]
    problems = []
    reported_models = body.get("models")
    if not isinstance(reported_models, dict):
        return [f"expected 'models' with one entry per model, got {reported_models!r}"]
    for model, service in sorted(models.items()):
        entry = reported_models.get(model)
        if not isinstance(entry, dict):
            problems.append(f"model {model!r} is missing from the health report")
            continue
        if entry.get("service") != service:
            problems.append(f"model {model!r}: expected service {service!r}, reported {entry.get('service')!r}")
        if entry.get("status") not in STATES:
            problems.append(f"model {model!r}: status {entry.get('status')!r} is not one of {STATES}")
    return problems


def model_states(body: Any) -> dict[str, str]:
    """model id -> reported status."""
    models = body.get("models", {}) if isinstance(body, dict) else {}
    return {m: str(e.get("status")) for m, e in models.items() if isinstance(e, dict)}


def service_states(body: Any) -> dict[str, str]:
    """service name -> reported status."""
    services = body.get("services", {}) if isinstance(body, dict) else {}
    return {s: str(e.get("status")) for s, e in services.items() if isinstance(e, dict)}


def disagreements(reported: Mapping[str, str], observed: Mapping[str, str]) -> list[str]:
    """Services whose reported state differs from what a direct look found."""
    return [f"service {name!r}: the gateway reports {reported.get(name, 'nothing')!r}, a direct check finds {state!r}"
            for name, state in sorted(observed.items()) if reported.get(name) != state]


def outage_problems(body: Any, service: str, models: Mapping[str, str]) -> list[str]:
    """The stopped `service`, and every model routed to it, are reported unreachable."""
    problems = []
    reported_service = service_states(body).get(service)
    if reported_service != "unreachable":
        problems.append(f"service {service!r} is stopped but reported {reported_service!r}, expected 'unreachable'")
    states = model_states(body)
    for model in sorted(m for m, s in models.items() if s == service):
        if states.get(model) != "unreachable":
            problems.append(f"model {model!r} runs on the stopped service but is reported {states.get(model)!r}")
    return problems
