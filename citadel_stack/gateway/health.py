"""Health of the model services and the database, and how it adds up to one status.

``aggregate_health`` is pure: it takes probe results and the model routes and builds the
``/health`` body. Probing itself lives in ``upstream.py`` and ``database.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .config import ModelRoute

HEALTHY = "healthy"
UNHEALTHY = "unhealthy"
UNREACHABLE = "unreachable"
DEGRADED = "degraded"

PROBE_PATH = "/v1/models"


@dataclass(frozen=True)
class ServiceProbe:
    """The result of probing one service (or the database)."""

    status: str
    latency_ms: float
    detail: str
    url_checked: str = PROBE_PATH

    def as_dict(self) -> dict[str, Any]:
        """The JSON form used in ``/health``; ``url_checked`` is a path, never a full URL."""
        return {
            "status": self.status,
            "url_checked": self.url_checked,
            "latency_ms": round(self.latency_ms, 3),
            "detail": self.detail,
        }


def assumed_healthy(service_names: list[str] | tuple[str, ...]) -> dict[str, ServiceProbe]:
    """Probe results claiming every service healthy, without probing (fault ``health_always_healthy``)."""
    return {name: ServiceProbe(HEALTHY, 0.0, "not probed") for name in service_names}


def overall_status(statuses: list[str]) -> str:
    """``healthy`` if every part is healthy, ``unhealthy`` if none is, else ``degraded``."""
    healthy = sum(1 for s in statuses if s == HEALTHY)
    if statuses and healthy == len(statuses):
        return HEALTHY
    if healthy == 0:
        return UNHEALTHY
    return DEGRADED


def model_health(models: Mapping[str, ModelRoute], services: Mapping[str, ServiceProbe]) -> dict[str, Any]:
    """One entry per served model id: its service and that service's status."""
    return {
        model_id: {
            "service": route.service,
            "status": services[route.service].status if route.service in services else UNREACHABLE,
        }
        for model_id, route in models.items()
    }


def aggregate_health(
    models: Mapping[str, ModelRoute],
    services: Mapping[str, ServiceProbe],
    database: ServiceProbe,
) -> dict[str, Any]:
    """The ``/health`` body. The overall status covers every service and the database."""
    statuses = [probe.status for probe in services.values()] + [database.status]
    return {
        "status": overall_status(statuses),
        "services": {name: probe.as_dict() for name, probe in services.items()},
        "models": model_health(models, services),
        "database": {
            "status": database.status,
            "latency_ms": round(database.latency_ms, 3),
            "detail": database.detail,
        },
    }


def plan_health(models: Mapping[str, ModelRoute], services: Mapping[str, ServiceProbe], urls: Mapping[str, str],
                overall: str, timestamp: str, extra: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``/health`` body in the plan's own shape (Citadel MVP-1 guide, kept in MVP-2):
    ``{service, status, timestamp, model_services: {model id: {status, url}}}``; `extra` adds model ids served
    outside ``models`` (the embedding model) with their service."""
    routes = {model_id: route.service for model_id, route in models.items()} | dict(extra or {})
    return {
        "service": "citadel-gateway",
        "status": overall,
        "timestamp": timestamp,
        "model_services": {
            model_id: {"status": services[service].status if service in services else UNREACHABLE,
                       "url": urls.get(service, "")}
            for model_id, service in routes.items()
        },
    }
