"""``GET /health``, ``GET /health/models`` and ``GET /metrics`` (no authentication)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from .errors import GatewayError
from citadel_stack.faults import HEALTH_ALWAYS_HEALTHY, HEALTH_FAILS_DURING_OUTAGE, HEALTH_OMITS_MODEL, HEALTH_REPORTS_DOWN
from .health import UNREACHABLE, ServiceProbe, aggregate_health, assumed_healthy, model_health, plan_health
from .runtime import GatewayState, gateway_state

router = APIRouter()


async def probe_services(state: GatewayState) -> dict[str, ServiceProbe]:
    """Probe every model service at once (or pretend, under ``health_always_healthy``)."""
    names = list(state.config.services)
    if HEALTH_ALWAYS_HEALTHY in state.config.faults:
        return assumed_healthy(names)
    if HEALTH_REPORTS_DOWN in state.config.faults:
        return {name: ServiceProbe(UNREACHABLE, 0.0, f"not probed (fault {HEALTH_REPORTS_DOWN.name})") for name in names}
    timeout = state.config.health_timeout_s
    results = await asyncio.gather(*(state.upstream.probe(name, timeout) for name in names))
    return dict(zip(names, results))


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    """Overall status, each model service, each model, and the database. Always HTTP 200."""
    state = gateway_state(request)
    services, database = await asyncio.gather(
        probe_services(state), state.database.probe(state.config.health_timeout_s)
    )
    report = aggregate_health(state.config.models, services, database)
    if HEALTH_FAILS_DURING_OUTAGE in state.config.faults and report["status"] != "healthy":
        raise GatewayError(500, "health check failed", type="server_error")
    if state.config.api_shape == "plan":
        return _omit_models(state, _plan_report(state, services, report["status"]))
    return _omit_models(state, report)


@router.get("/health/models")
async def health_models(request: Request) -> dict[str, Any]:
    """Each served model with its service and that service's status."""
    state = gateway_state(request)
    services = await probe_services(state)
    if state.config.api_shape == "plan":
        return _omit_models(state, _plan_report(state, services, "healthy" if all(
            p.status == "healthy" for p in services.values()) else "degraded"))
    return _omit_models(state, {"models": model_health(state.config.models, services)})


def _plan_report(state: GatewayState, services: dict[str, ServiceProbe], overall: str) -> dict[str, Any]:
    """The plan's health body: every served model id (the embedding model too) with its service's status and URL."""
    embeddings = state.config.embeddings
    extra = {embeddings.model_id: embeddings.service} if embeddings is not None else {}
    urls = {name: service.url for name, service in state.config.services.items()}
    return plan_health(state.config.models, services, urls, overall,
                       datetime.now(timezone.utc).isoformat(timespec="seconds"), extra)


def _omit_models(state: GatewayState, report: dict[str, Any]) -> dict[str, Any]:
    """Under ``health_omits_model:MODEL``, the report leaves MODEL out."""
    for model in state.config.faults.values(HEALTH_OMITS_MODEL):
        report.get("models", {}).pop(model, None)
        report.get("model_services", {}).pop(model, None)
    return report


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus text exposition."""
    return Response(gateway_state(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)
