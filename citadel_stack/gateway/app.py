"""``create_app(config)``: the gateway's FastAPI application."""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator

import httpx
import psycopg
from psycopg import sql
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_fixed

from .auth import Authenticator
from .config import GatewayConfig
from .database import Database, RequestRecord, apply_migrations
from .errors import GatewayError, error_type_for_status, openai_error_body
from .embeddings import Embedder
from citadel_stack.faults import (ACCEPT_UNKNOWN_KEY, AUDIT_CHAIN_BROKEN, AUTH_BYPASS_EMBEDDINGS, AUTH_OPTIONAL,
                                  CACHE_DISABLED, CONFIG_NOT_AUDITED, DROP_INDEX, ECHO_CREDENTIAL, INVALID_BODY_IS_500,
                                  LIFECYCLE_DISABLED, LOG_WITHOUT_REQUEST_ID, MISSING_SECURITY_HEADER, NO_REQUEST_LOG,
                                  NO_RETRY_AFTER, OPENAPI_WITHOUT_SECURITY, RATE_LIMIT_OFF, RETRIEVAL_IGNORES_FILTER,
                                  REVOKE_NOT_ENFORCED, EMBEDDINGS_SLOWER, SLOW_QUERY, STACK_TRACE_IN_ERRORS,
                                  VECTOR_OUTAGE_IS_500, WRONG_VECTOR_SIZE)
from .json_log import JsonLinesLog, redact_secrets
from .metrics import GatewayMetrics
from .request_tracking import RequestRecorder, RequestTrackingMiddleware
from .routes_chat import router as chat_router
from .routes_health import router as health_router
from .routes_admin import router as admin_router
from .routes_documents import router as documents_router
from .routes_embeddings import open_router as embeddings_open_router
from .routes_embeddings import router as embeddings_router
from .routes_models import build_models_router
from .audit import AuditTrail
from .response_cache import ResponseCache
from .security import RateLimiter, SecurityHeadersMiddleware
from . import simulated_gpu
from .soak_faults import install_soak_faults
from . import openapi_doc
from .runtime_config import RuntimeConfig
from .stores import DocumentStore, KeyAdmin, run_lifecycle
from .vector_index import VectorIndex, VectorStoreUnavailable
from .runtime import GatewayState, KeyStore
from .upstream import UpstreamClient

log = logging.getLogger(__name__)

# How long startup waits for PostgreSQL to accept connections (the launcher waits too).
DATABASE_WAIT_S = 30.0


def create_app(
    config: GatewayConfig,
    *,
    database: KeyStore | None = None,
    migrate: bool = True,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
    json_log: JsonLinesLog | None = None,
    system_metrics: bool = True,
) -> FastAPI:
    """Build the app. Tests may pass a fake ``database`` (with ``migrate=False``) and an httpx transport."""
    faults = config.faults
    slow_query_s = faults.number(SLOW_QUERY) / 1000
    db: KeyStore = database if database is not None else Database(
        config.database_dsn, slow_query_s=slow_query_s, enforce_revocation=REVOKE_NOT_ENFORCED not in faults)
    request_log = json_log if json_log is not None else JsonLinesLog(config.log_path)
    metrics = GatewayMetrics(with_system=system_metrics)

    async def record(record: RequestRecord) -> None:
        request_log.write(
            "info" if record.status_code < 500 else "error",
            event="request",
            request_id=None if LOG_WITHOUT_REQUEST_ID in faults else record.request_id,
            method=record.method,
            path=record.path,
            status_code=record.status_code,
            duration_ms=round(record.duration_ms, 3),
            model=record.model,
        )
        metrics.http_requests.labels(record.method, _path_label(record.path), str(record.status_code)).inc()
        if NO_REQUEST_LOG not in faults:
            await db.log_request(record)

    state = GatewayState(
        config=config,
        database=db,
        upstream=UpstreamClient(config.services, transport=upstream_transport),
        authenticator=Authenticator(db.find_active_key, accept_unknown=ACCEPT_UNKNOWN_KEY in config.faults,
                                    optional=AUTH_OPTIONAL in config.faults, echo=ECHO_CREDENTIAL in config.faults),
        metrics=metrics,
        recorder=RequestRecorder(record),
        log=request_log,
        started_at=int(time.time()),
    )
    if config.embeddings is not None:
        state.embedder = Embedder(config.embeddings, state.upstream,
                                  answer_slowdown=float(faults.number(EMBEDDINGS_SLOWER, 1)))
    if config.vector_store is not None:
        state.vector_index = VectorIndex(config.vector_store, vector_size=faults.value(WRONG_VECTOR_SIZE),
                                         ignore_filter=RETRIEVAL_IGNORES_FILTER in faults)
    if isinstance(db, Database):
        state.documents, state.keys = DocumentStore(db.pool), KeyAdmin(db.pool)
        state.audit = AuditTrail(db.pool, enabled=CONFIG_NOT_AUDITED not in faults,
                                 chained=AUDIT_CHAIN_BROKEN not in faults)
        state.runtime_config = RuntimeConfig(db.pool)
    if CACHE_DISABLED not in faults:
        state.cache = ResponseCache()
    state.rate_limiter = RateLimiter(
        lambda: int(state.runtime_config.current["rate_limit_per_minute"]) if state.runtime_config else 100,
        enabled=RATE_LIMIT_OFF not in faults, retry_after=NO_RETRY_AFTER not in faults)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            if migrate:
                async for attempt in AsyncRetrying(
                    retry=retry_if_exception_type(psycopg.OperationalError),
                    stop=stop_after_delay(DATABASE_WAIT_S),
                    wait=wait_fixed(0.5),
                    reraise=True,
                ):
                    with attempt:
                        applied = await apply_migrations(config.migrations_dsn)
                request_log.write("info", event="migrations", applied=applied)
            await _inject_schema_faults(config)
            await db.open()
            await db.ensure_admin_key(config.admin_key_sha256)
            if state.runtime_config is not None:
                await state.runtime_config.load()
        except Exception as exc:
            message = redact_secrets(f"{type(exc).__name__}: {exc}")
            for dsn in (config.database_dsn, config.migrations_dsn):
                message = message.replace(dsn, redact_secrets(dsn))
            request_log.write("error", event="startup_failed", detail=message)
            raise RuntimeError(f"gateway startup failed: {message}") from None
        request_log.write(
            "info", event="started", host=config.host, port=config.port,
            models=sorted(config.models), faults=sorted(config.faults.names),
        )
        lifecycle = asyncio.create_task(_lifecycle_loop(state)) if isinstance(db, Database) else None
        # The vector store starts beside the gateway and may answer later: its collection is made as soon as it does.
        collection = (asyncio.create_task(_prepare_collection(state.vector_index, request_log))
                      if state.vector_index is not None else None)
        try:
            yield
        finally:
            for task in (lifecycle, collection):
                if task is not None:
                    task.cancel()
            if state.vector_index is not None:
                await state.vector_index.aclose()
            await state.recorder.drain()
            await state.upstream.aclose()
            await db.close()
            request_log.write("info", event="stopped")

    app = FastAPI(title="Citadel reference gateway", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json")
    app.state.gateway = state
    app.include_router(health_router)
    app.include_router(build_models_router(config.faults))
    app.include_router(chat_router)
    app.include_router(embeddings_open_router if AUTH_BYPASS_EMBEDDINGS in faults else embeddings_router)
    app.include_router(documents_router)
    app.include_router(admin_router)
    install_soak_faults(app, faults)  # self-test only: leak_memory, latency_creep, intermittent_500
    gpu_router = simulated_gpu.build_router(config.faults)  # self-test only: simulated_gpu
    if gpu_router is not None:
        app.include_router(gpu_router)
    openapi_doc.install(app, sorted(config.models), config.embeddings.model_id if config.embeddings else None,
                        declare_security=OPENAPI_WITHOUT_SECURITY not in faults)
    app.add_middleware(RequestTrackingMiddleware, recorder=state.recorder)
    app.add_middleware(SecurityHeadersMiddleware, nosniff=MISSING_SECURITY_HEADER not in faults)
    _install_error_handlers(app)
    return app


KNOWN_PATHS = frozenset({"/health", "/health/models", "/health/gpu", "/metrics", "/models", "/v1/models", "/v1/chat/completions",
                         "/v1/embeddings", "/v1/documents", "/v1/retrieval", "/admin/keys", "/admin/lifecycle/run"})


async def _inject_schema_faults(config: GatewayConfig) -> None:
    """Fault drop_index:NAME (self-test only): drop an index the migrations created."""
    for index in config.faults.values(DROP_INDEX):
        async with await psycopg.AsyncConnection.connect(config.migrations_dsn, autocommit=True) as conn:
            await conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(str(index))))


async def _prepare_collection(index: VectorIndex, request_log: JsonLinesLog, within_s: float = 60.0) -> None:
    """Create the documents collection as soon as the vector store answers (it starts beside the gateway), trying
    for `within_s`; after that, at first use."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            await index.ensure_collection()
            return
        except GatewayError as exc:
            if time.monotonic() >= deadline:
                request_log.write("warning", event="vector_store_not_ready", detail=str(exc))
                return
        await asyncio.sleep(0.5)


async def _lifecycle_loop(state: GatewayState, every_s: float = 3600.0) -> None:
    """The data-lifecycle job, hourly (operators can also run it now: POST /admin/lifecycle/run)."""
    while True:
        await asyncio.sleep(every_s)
        if LIFECYCLE_DISABLED in state.config.faults:
            continue
        try:
            deleted = await run_lifecycle(state.database.pool, state.config.retention_days)
            if state.log is not None:
                state.log.write("info", event="lifecycle", deleted=deleted)
        except psycopg.Error as exc:
            if state.log is not None:
                state.log.write("error", event="lifecycle_failed", detail=type(exc).__name__)


def _path_label(path: str) -> str:
    """A bounded label for the request counter: the path if it is a route, else 'other'."""
    return path if path in KNOWN_PATHS else "other"


def _install_error_handlers(app: FastAPI) -> None:
    """Every error answers with an OpenAI-shaped body (a FastAPI `detail` body where the gateway is built to the plan)."""

    async def gateway_error(request: Request, exc: GatewayError) -> JSONResponse:
        faults = request.app.state.gateway.config.faults
        if (exc.status_code == 400 and INVALID_BODY_IS_500 in faults) or (
                isinstance(exc, VectorStoreUnavailable) and VECTOR_OUTAGE_IS_500 in faults):
            return await unexpected_error(request, exc)  # faults (self-test only): a refusal ends in a crash
        return JSONResponse(_shaped(request, _with_trace(request, exc.body)), status_code=exc.status_code, headers=exc.headers)

    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404:
            message = f"no route {request.method} {request.url.path}"
        body = openai_error_body(message, type=error_type_for_status(exc.status_code))
        return JSONResponse(_shaped(request, body), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(_shaped(request, openai_error_body("the request is not valid")), status_code=400)

    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(_shaped(request, _with_trace(request, openai_error_body("internal error in the gateway", type="server_error"))),
                            status_code=500)

    def _shaped(request: Request, body: dict) -> dict:
        """A gateway built to the plan (api_shape "plan") answers errors as FastAPI does: {"detail": message}."""
        if request.app.state.gateway.config.api_shape == "plan" and isinstance(body.get("error"), dict):
            return {"detail": body["error"].get("message", "")}
        return body

    def _with_trace(request: Request, body: dict) -> dict:
        """Fault stack_trace_in_errors (self-test only): leak a traceback into the error message."""
        if STACK_TRACE_IN_ERRORS in request.app.state.gateway.config.faults:
            import traceback

            body["error"]["message"] += " | Traceback (most recent call last): " + " ".join(traceback.format_stack(limit=3))
        return body

    app.add_exception_handler(GatewayError, gateway_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, unexpected_error)
