"""ASGI middleware: request ids, and one request_log row plus one JSON log line per request.

It wraps the raw ASGI app (not ``BaseHTTPMiddleware``) so that a streamed answer is recorded
only after its last byte was sent. Routes add what they learn (the model, the key's id) to the
``RequestContext`` found at ``scope["citadel"]``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Awaitable, Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .database import RequestRecord

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
# Accept a caller's request id only if it is printable ASCII without spaces and not too long.
VALID_REQUEST_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
UNLOGGED_PATHS = frozenset({"/metrics"})
SCOPE_KEY = "citadel"


@dataclass
class RequestContext:
    """What is known about one request, filled in as it is handled."""

    request_id: str
    api_key_id: int | None = None
    model: str | None = None


def request_id_from(header_value: str | None) -> str:
    """The caller's ``X-Request-ID`` if it is acceptable, else a new uuid4 hex."""
    if header_value and VALID_REQUEST_ID.match(header_value):
        return header_value
    return uuid.uuid4().hex


def request_context(request: Request) -> RequestContext:
    """The context of a request (a fresh one if the middleware did not run, as in unit tests)."""
    ctx = request.scope.get(SCOPE_KEY)
    if ctx is None:
        ctx = RequestContext(request_id=request_id_from(request.headers.get(REQUEST_ID_HEADER)))
        request.scope[SCOPE_KEY] = ctx
    return ctx


RecordSink = Callable[[RequestRecord], Awaitable[None]]


class RequestRecorder:
    """Hands finished requests to ``sink`` (the database and the JSON log) and tracks writes in flight."""

    def __init__(self, sink: RecordSink) -> None:
        self.sink = sink
        self._pending: set[asyncio.Task[None]] = set()

    async def record(self, record: RequestRecord) -> None:
        """Write one record; the write finishes even if the caller is cancelled meanwhile."""
        task = asyncio.ensure_future(self._sink_safely(record))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        await asyncio.shield(task)

    async def _sink_safely(self, record: RequestRecord) -> None:
        try:
            await self.sink(record)
        except Exception as exc:  # a failed log write must not fail the request
            log.warning("could not record request %s: %s", record.request_id, type(exc).__name__)

    async def drain(self, timeout_s: float = 5.0) -> None:
        """Wait for records still being written (at shutdown)."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=timeout_s)


class RequestTrackingMiddleware:
    """Sets and echoes the request id, then records the request after its answer ended."""

    def __init__(self, app: ASGIApp, recorder: RequestRecorder) -> None:
        self.app = app
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLOGGED_PATHS:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        ctx = RequestContext(request_id=request_id_from(Headers(scope=scope).get(REQUEST_ID_HEADER)))
        scope[SCOPE_KEY] = ctx
        status_code = 500

        async def send_with_request_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = ctx.request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            await self.recorder.record(
                RequestRecord(
                    request_id=ctx.request_id,
                    api_key_id=ctx.api_key_id,
                    method=scope["method"],
                    path=scope["path"],
                    model=ctx.model,
                    status_code=status_code,
                    duration_ms=(time.perf_counter() - started) * 1000.0,
                )
            )
