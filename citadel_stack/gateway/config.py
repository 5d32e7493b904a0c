"""The gateway's configuration: one JSON file written by the launcher, loaded into frozen dataclasses."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from .faults import FaultSet

CONFIG_KEYS = frozenset(
    {
        "host",
        "port",
        "database_dsn",
        "migrations_dsn",
        "admin_key_sha256",
        "models",
        "services",
        "faults",
        "health_timeout_s",
        "log_path",
    }
)
# Optional: a gateway without them serves chat only (no embeddings, documents or retrieval).
OPTIONAL_KEYS = frozenset({"embeddings", "vector_store", "retention_days", "tls", "api_shape"})
# "current": the reference gateway's own health report and OpenAI error bodies; "plan": built exactly to the plan's
# documents (health with model_services, FastAPI {"detail": ...} errors).
API_SHAPES = ("current", "plan")


@dataclass(frozen=True)
class ServiceConfig:
    """A model service (an OpenAI-compatible server) the gateway forwards to."""

    name: str
    url: str


@dataclass(frozen=True)
class ModelRoute:
    """Where a served model id is answered: a service and the model name that service knows."""

    model_id: str
    service: str
    upstream_model: str


@dataclass(frozen=True)
class EmbeddingsConfig:
    """The embedding model id clients ask for, and the service that computes it."""

    model_id: str
    service: str
    upstream_model: str


@dataclass(frozen=True)
class VectorStoreConfig:
    """The Qdrant the gateway keeps document vectors in (the api key is a secret: never logged)."""

    url: str
    api_key: str
    collection: str
    vector_size: int = field(default=576)


@dataclass(frozen=True)
class TlsConfig:
    """An HTTPS listener beside the HTTP one: its port and certificate files."""

    port: int
    certfile: str
    keyfile: str


@dataclass(frozen=True)
class GatewayConfig:
    """Everything one gateway process needs; see ``CONFIG_KEYS`` for the file's keys."""

    host: str
    port: int
    database_dsn: str
    migrations_dsn: str
    admin_key_sha256: str
    models: Mapping[str, ModelRoute]
    services: Mapping[str, ServiceConfig]
    faults: FaultSet
    health_timeout_s: float
    log_path: Path
    embeddings: EmbeddingsConfig | None = None
    vector_store: VectorStoreConfig | None = None
    retention_days: int = 30
    tls: TlsConfig | None = None
    api_shape: str = "current"

    @classmethod
    def load(cls, path: str | Path) -> "GatewayConfig":
        """Read and validate the JSON file at ``path``; any problem raises ValueError."""
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"gateway config {path}: not valid JSON ({exc})") from exc
        try:
            return cls.from_dict(raw)
        except ValueError as exc:
            raise ValueError(f"gateway config {path}: {exc}") from exc

    @classmethod
    def from_dict(cls, raw: Any) -> "GatewayConfig":
        """Validate a decoded config object; unknown or missing keys raise ValueError."""
        if not isinstance(raw, dict):
            raise ValueError(f"expected a JSON object, got {type(raw).__name__}")
        unknown = sorted(set(raw) - CONFIG_KEYS - OPTIONAL_KEYS)
        missing = sorted(CONFIG_KEYS - set(raw))
        if unknown or missing:
            raise ValueError(f"unknown keys {unknown}, missing keys {missing}; expected exactly {sorted(CONFIG_KEYS)}")

        services = _parse_services(raw["services"])
        models = _parse_models(raw["models"], services)
        faults = raw["faults"]
        if not isinstance(faults, list):
            raise ValueError("'faults' must be a list of fault names")
        admin_hash = _require_str(raw, "admin_key_sha256").lower()
        if len(admin_hash) != 64 or any(c not in "0123456789abcdef" for c in admin_hash):
            raise ValueError("'admin_key_sha256' must be 64 hex digits (the sha256 of the bootstrap admin key)")
        port = raw["port"]
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise ValueError(f"'port' must be an integer 1-65535, got {port!r}")
        timeout = raw["health_timeout_s"]
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not (
            math.isfinite(timeout) and timeout > 0
        ):
            raise ValueError(f"'health_timeout_s' must be a positive number, got {timeout!r}")
        return cls(
            host=_require_str(raw, "host"),
            port=port,
            database_dsn=_require_str(raw, "database_dsn"),
            migrations_dsn=_require_str(raw, "migrations_dsn"),
            admin_key_sha256=admin_hash,
            models=models,
            services=services,
            faults=FaultSet.parse(faults),
            health_timeout_s=float(timeout),
            log_path=Path(_require_str(raw, "log_path")),
            embeddings=_parse_embeddings(raw.get("embeddings"), services),
            vector_store=_parse_vector_store(raw.get("vector_store")),
            retention_days=_positive_int(raw.get("retention_days", 30), "retention_days"),
            tls=TlsConfig(**raw["tls"]) if raw.get("tls") else None,
            api_shape=_api_shape(raw.get("api_shape", "current")),
        )


def _api_shape(value: Any) -> str:
    if value not in API_SHAPES:
        raise ValueError(f"'api_shape' must be one of {', '.join(API_SHAPES)}, got {value!r}")
    return value


def _positive_int(value: Any, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{key!r} must be a positive integer, got {value!r}")
    return value


def _parse_embeddings(raw: Any, services: Mapping[str, ServiceConfig]) -> EmbeddingsConfig | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"model", "service", "upstream_model"}:
        raise ValueError("'embeddings' must be an object with exactly the keys 'model', 'service', 'upstream_model'")
    if raw["service"] not in services:
        raise ValueError(f"embeddings name service {raw['service']!r}, not one of {sorted(services)}")
    return EmbeddingsConfig(_require_str(raw, "model"), raw["service"], _require_str(raw, "upstream_model"))


def _parse_vector_store(raw: Any) -> VectorStoreConfig | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"url", "api_key", "collection", "vector_size"}:
        raise ValueError("'vector_store' must be an object with exactly the keys 'url', 'api_key', 'collection', 'vector_size'")
    return VectorStoreConfig(_require_str(raw, "url").rstrip("/"), _require_str(raw, "api_key"),
                             _require_str(raw, "collection"), _positive_int(raw["vector_size"], "vector_size"))


def _require_str(raw: Mapping[str, Any], key: str) -> str:
    value = raw[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key!r} must be a non-empty string")
    return value


def _parse_services(raw: Any) -> dict[str, ServiceConfig]:
    if not isinstance(raw, dict) or not raw:
        raise ValueError("'services' must be a non-empty object of name -> {\"url\": ...}")
    services: dict[str, ServiceConfig] = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict) or set(entry) != {"url"}:
            raise ValueError(f"service {name!r} must be an object with exactly the key 'url'")
        url = entry["url"]
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"service {name!r}: 'url' must be an http(s) URL, got {url!r}")
        services[name] = ServiceConfig(name=name, url=url.rstrip("/"))
    return services


def _parse_models(raw: Any, services: Mapping[str, ServiceConfig]) -> dict[str, ModelRoute]:
    if not isinstance(raw, dict) or not raw:
        raise ValueError("'models' must be a non-empty object of model id -> {\"service\", \"upstream_model\"}")
    models: dict[str, ModelRoute] = {}
    for model_id, entry in raw.items():
        if not isinstance(entry, dict) or set(entry) != {"service", "upstream_model"}:
            raise ValueError(f"model {model_id!r} must be an object with exactly the keys 'service', 'upstream_model'")
        service, upstream = entry["service"], entry["upstream_model"]
        if service not in services:
            raise ValueError(f"model {model_id!r} names service {service!r}, not one of {sorted(services)}")
        if not isinstance(upstream, str) or not upstream:
            raise ValueError(f"model {model_id!r}: 'upstream_model' must be a non-empty string")
        models[model_id] = ModelRoute(model_id=model_id, service=service, upstream_model=upstream)
    return models
