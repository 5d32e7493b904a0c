"""The objects one gateway process shares between requests, and the FastAPI dependencies reaching them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Coroutine, Protocol

from fastapi import Request

from citadel_stack.faults import ROLES_NOT_ENFORCED

from .auth import Authenticator
from .config import GatewayConfig
from .database import ApiKey, RequestRecord
from .embeddings import Embedder
from .errors import GatewayError
from .health import ServiceProbe
from .json_log import JsonLinesLog
from .metrics import GatewayMetrics
from .request_tracking import RequestRecorder, request_context
from .upstream import UpstreamClient


class KeyStore(Protocol):
    """What the gateway needs from its database (``database.Database``, or a fake in tests)."""

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def ensure_admin_key(self, key_sha256: str, name: str = "bootstrap-admin") -> None: ...
    async def find_active_key(self, key_sha256: str) -> ApiKey | None: ...
    async def log_request(self, record: RequestRecord) -> None: ...
    async def probe(self, timeout_s: float) -> ServiceProbe: ...


@dataclass
class GatewayState:
    """Everything the routes use, built once by ``app.create_app``."""

    config: GatewayConfig
    database: KeyStore
    upstream: UpstreamClient
    authenticator: Authenticator
    metrics: GatewayMetrics
    recorder: RequestRecorder
    log: JsonLinesLog | None
    started_at: int
    embedder: Embedder | None = None
    vector_index: Any = None  # vector_index.VectorIndex when a vector store is configured
    documents: Any = None  # stores.DocumentStore when a real database is used
    keys: Any = None  # stores.KeyAdmin when a real database is used
    cache: Any = None  # response_cache.ResponseCache unless the cache_disabled fault is set
    audit: Any = None  # audit.AuditTrail when a real database is used
    runtime_config: Any = None  # runtime_config.RuntimeConfig when a real database is used
    rate_limiter: Any = None  # security.RateLimiter
    chat_count: int = 0  # chat requests seen (the fail_ratio fault picks every k-th)


def gateway_state(request: Request) -> GatewayState:
    """The state of the app serving ``request``."""
    return request.app.state.gateway


async def require_api_key(request: Request) -> ApiKey:
    """Dependency: the caller's API key, or a 401 OpenAI error; counts the request against the key's rate limit."""
    state = gateway_state(request)
    key = await state.authenticator.authenticate(request.headers.get("authorization"))
    request_context(request).api_key_id = key.id
    if state.rate_limiter is not None and not getattr(request.state, "rate_counted", False):
        request.state.rate_counted = True
        state.rate_limiter.check(key.id if key.id is not None else key.name, key.role)
    return key


def require_role(*roles: str) -> Callable[[Request], Coroutine[Any, Any, ApiKey]]:
    """Dependency factory: the caller's key, which must have one of ``roles`` (else 403)."""

    async def dependency(request: Request) -> ApiKey:
        key = await require_api_key(request)
        if key.role not in roles and ROLES_NOT_ENFORCED not in gateway_state(request).config.faults:
            raise GatewayError(403, f"this operation needs the role {' or '.join(roles)}; the key has the role {key.role!r}",
                               type="permission_error", code="insufficient_role")
        return key

    return dependency


def require_feature(state: GatewayState, name: str, value: Any) -> Any:
    """``value`` when the feature is configured, else a 501 naming what is missing."""
    if value is None:
        raise GatewayError(501, f"this gateway is not configured for {name}", type="not_implemented")
    return value
