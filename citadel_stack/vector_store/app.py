"""``create_app(...)``: the FastAPI application speaking Qdrant's REST API over Qdrant's engine (qdrant-edge).

Answers use Qdrant's envelope ``{"result": ..., "status": "ok", "time": <seconds>}``; errors
``{"status": {"error": "..."}, "time": ...}`` (see ``errors.py``). Bodies are parsed with
``qdrant_client.http.models``. Engine calls run in worker threads: searches and other reads of a
collection run at the same time; its writes take turns (``collection.py``).
"""

from __future__ import annotations

import json
import time
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, TypeAdapter, ValidationError
from qdrant_client.http import models
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from .auth import refusal
from .engine import VectorEngine
from .errors import (QdrantError, collection_not_found, error_body, format_error, snapshots_unsupported,
                     validation_error)
from .faults import FaultSet
from .metrics import StoreMetrics
from .request_log import JsonLineLog
from .search import LegacySearchRequest, SearchRunner

TITLE = "qdrant - vector search engine"


def create_app(
    *,
    api_key: str | None,
    version: str,
    faults: FaultSet = FaultSet(),
    log: JsonLineLog | None = None,
    engine: VectorEngine | None = None,
    data_dir: Path | None = None,
) -> FastAPI:
    """Build the app; ``api_key=None`` serves without authentication (as Qdrant without a key).

    Without `engine`, the app opens one on `data_dir` (a temporary directory when None) and closes it
    when it stops.
    """
    store = engine if engine is not None else VectorEngine(data_dir, faults)
    searches = SearchRunner(store, faults)
    metrics = StoreMetrics(store, version)
    request_log = log if log is not None else JsonLineLog.to(None)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if engine is None:
            await run_in_threadpool(store.close)
        request_log.write("info", event="stopped")

    app = FastAPI(title="Citadel Qdrant stand-in", version=version, docs_url=None, redoc_url=None,
                  openapi_url=None, lifespan=lifespan)

    @app.middleware("http")
    async def authenticate_time_and_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                                        ) -> Response:
        started = time.perf_counter()
        request.state.started = started
        endpoint = _endpoint_label(app, request)
        reason = refusal(api_key, request.url.path, request.headers)
        if reason is not None:
            response: Response = JSONResponse(error_body(reason, _elapsed(started)), status_code=401)
        else:
            try:
                response = await call_next(request)
            except Exception as exc:  # an engine failure we did not foresee: answer, log, keep serving
                request_log.write("error", event="unhandled", path=request.url.path, error=repr(exc))
                response = JSONResponse(error_body(f"Service internal error: {exc}", _elapsed(started)), 500)
        duration_s = time.perf_counter() - started
        metrics.observe(request.method, endpoint, response.status_code, duration_s)
        request_log.write("info" if response.status_code < 500 else "error", event="request",
                          method=request.method, path=request.url.path, endpoint=endpoint,
                          status=response.status_code, duration_ms=round(duration_s * 1000, 3))
        return response

    @app.exception_handler(QdrantError)
    async def qdrant_error(request: Request, exc: QdrantError) -> JSONResponse:
        return JSONResponse(error_body(exc.message, _since(request)), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def parameter_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body(f"Validation error in path or query parameters: {_summary(exc.errors())}",
                                       _since(request)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body(str(exc.detail), _since(request)), status_code=exc.status_code)

    # -- service -----------------------------------------------------------------------------------

    @app.get("/")
    async def root() -> dict[str, Any]:
        """Version info (open, as in Qdrant); the version says this is the stand-in."""
        return {"title": TITLE, "version": version, "commit": None}

    @app.get("/healthz", response_class=PlainTextResponse)
    @app.get("/livez", response_class=PlainTextResponse)
    async def healthz() -> str:
        """Liveness (open)."""
        return "healthz check passed"

    @app.get("/readyz", response_class=PlainTextResponse)
    async def readyz() -> str:
        """Readiness (open): every stored collection is loaded before the process serves."""
        return "all shards are ready"

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        """Prometheus text: collections, points per collection, requests by endpoint and status."""
        body = await run_in_threadpool(metrics.exposition)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    # -- collections -------------------------------------------------------------------------------

    @app.get("/collections")
    async def list_collections(request: Request) -> JSONResponse:
        return _ok(request, await run_in_threadpool(store.list_collections))

    @app.get("/collections/{collection}")
    async def get_collection(request: Request, collection: str) -> JSONResponse:
        return _ok(request, await run_in_threadpool(store.collection_info, collection))

    @app.get("/collections/{collection}/exists")
    async def collection_exists(request: Request, collection: str) -> JSONResponse:
        exists = await run_in_threadpool(store.exists, collection)
        return _ok(request, models.CollectionExistence(exists=exists))

    @app.put("/collections/{collection}")
    async def create_collection(request: Request, collection: str) -> JSONResponse:
        body = await _parse(request, models.CreateCollection)
        return _ok(request, await run_in_threadpool(store.create_collection, collection, body))

    @app.patch("/collections/{collection}")
    async def update_collection(request: Request, collection: str) -> JSONResponse:
        body = await _parse(request, models.UpdateCollection)
        return _ok(request, await run_in_threadpool(store.update_collection, collection, body))

    @app.delete("/collections/{collection}")
    async def delete_collection(request: Request, collection: str) -> JSONResponse:
        return _ok(request, await run_in_threadpool(store.delete_collection, collection))

    @app.put("/collections/{collection}/index")
    async def create_payload_index(request: Request, collection: str) -> JSONResponse:
        body = await _parse(request, models.CreateFieldIndex)
        return _ok(request, await run_in_threadpool(store.create_payload_index, collection, body))

    @app.delete("/collections/{collection}/index/{field_name}")
    async def delete_payload_index(request: Request, collection: str, field_name: str) -> JSONResponse:
        return _ok(request, await run_in_threadpool(store.delete_payload_index, collection, field_name))

    # -- points ------------------------------------------------------------------------------------

    @app.put("/collections/{collection}/points")
    async def upsert_points(request: Request, collection: str) -> JSONResponse:
        body = await _parse(request, models.PointInsertOperations)
        return _ok(request, await run_in_threadpool(store.upsert, collection, body))

    @app.post("/collections/{collection}/points")
    async def retrieve_points(request: Request, collection: str) -> JSONResponse:
        body = await _parse(request, models.PointRequest)
        return _ok(request, await run_in_threadpool(store.retrieve, collection, body))

    @app.get("/collections/{collection}/points/{point_id}")
    async def get_point(request: Request, collection: str, point_id: str) -> JSONResponse:
        parsed: int | str = int(point_id) if point_id.isdigit() else point_id
        return _ok(request, await run_in_threadpool(store.get_point, collection, parsed))

    @app.post("/collections/{collection}/points/delete")
    async def delete_points(request: Request, collection: str) -> JSONResponse:
        body = await _parse(request, models.PointsSelector)
        return _ok(request, await run_in_threadpool(store.delete_points, collection, body))

    @app.post("/collections/{collection}/points/query")
    async def query_points(request: Request, collection: str) -> JSONResponse:
        body = await _parse(request, models.QueryRequest)
        return _ok(request, await searches.query(collection, body))

    @app.post("/collections/{collection}/points/search")
    async def search_points(request: Request, collection: str) -> JSONResponse:
        body = await _parse(request, LegacySearchRequest)
        return _ok(request, await searches.search(collection, body))

    @app.post("/collections/{collection}/points/scroll")
    async def scroll_points(request: Request, collection: str) -> JSONResponse:
        body = await _parse(request, models.ScrollRequest)
        if body.limit is not None and body.limit < 1:
            raise validation_error(f"[limit: value {body.limit} invalid, must be 1 or larger]")
        return _ok(request, await run_in_threadpool(store.scroll, collection, body))

    @app.post("/collections/{collection}/points/count")
    async def count_points(request: Request, collection: str) -> JSONResponse:
        body = await _parse(request, models.CountRequest)
        return _ok(request, await run_in_threadpool(store.count, collection, body))

    # -- snapshots: qdrant-edge cannot create one (see errors.SNAPSHOTS_UNSUPPORTED) -------------------

    @app.api_route("/collections/{collection}/snapshots", methods=["GET", "POST", "PUT"])
    @app.api_route("/collections/{collection}/snapshots/{snapshot}", methods=["GET", "DELETE"])
    async def collection_snapshots(collection: str) -> JSONResponse:
        if not await run_in_threadpool(store.exists, collection):
            raise collection_not_found(collection)
        raise snapshots_unsupported()

    @app.api_route("/snapshots", methods=["GET", "POST"])
    @app.api_route("/snapshots/{snapshot}", methods=["GET", "DELETE"])
    async def full_snapshots() -> JSONResponse:
        raise snapshots_unsupported()

    return app


def _ok(request: Request, result: Any) -> JSONResponse:
    """Qdrant's success envelope around `result` (pydantic models dumped as JSON)."""
    return JSONResponse({"result": _jsonable(result), "status": "ok", "time": _since(request)})


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value


async def _parse(request: Request, model: Any) -> Any:
    """The JSON body validated as `model` (a model or a union of models from qdrant_client.http.models)."""
    raw = await request.body()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise format_error(str(exc)) from exc
    try:
        return _adapter(model).validate_python(data)
    except ValidationError as exc:
        raise validation_error(_summary(exc.errors())) from exc


@lru_cache(maxsize=None)
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def _summary(errors: Any, most: int = 5) -> str:
    """Pydantic errors as ``[field: message, ...]`` (the first few; unions produce many)."""
    parts = [f"{'.'.join(str(p) for p in e.get('loc', ())) or 'body'}: {e.get('msg', 'invalid')}" for e in errors]
    more = f", and {len(parts) - most} more" if len(parts) > most else ""
    return "[" + ", ".join(parts[:most]) + more + "]"


def _endpoint_label(app: FastAPI, request: Request) -> str:
    """The route template a request matches (``/collections/{collection}/points/query``), for metrics."""
    partial = "unmatched"
    for route in app.router.routes:
        match, _ = route.matches(request.scope)
        if match is Match.FULL:
            return getattr(route, "path", "unmatched")
        if match is Match.PARTIAL and partial == "unmatched":  # the path exists, the method does not
            partial = getattr(route, "path", "unmatched")
    return partial


def _since(request: Request) -> float:
    return _elapsed(getattr(request.state, "started", time.perf_counter()))


def _elapsed(started: float) -> float:
    return round(time.perf_counter() - started, 6)
