"""Faults that only a long run shows (self-test of the stability run): a leak, creeping latency, sporadic 500s.

One raw ASGI middleware honours all three, installed inside the request tracking (so a refused
request is still logged like any other):

- ``leak_memory:KB`` keeps KB kilobytes per request (every path) in a list that is never emptied;
- ``latency_creep:MS_PER_MIN[:AFTER_S]`` delays each chat request by MS_PER_MIN ms per minute since AFTER_S
  seconds (default 0) after the first chat request;
- ``intermittent_500:PERCENT`` answers every k-th API request (``/v1/...``, k = 100 / PERCENT) with 500.
"""

from __future__ import annotations

import json
import time

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from citadel_stack.faults import INTERMITTENT_500, LATENCY_CREEP, LEAK_MEMORY

from .errors import openai_error_body
from .faults import FaultSet

CHAT_PATH = "/v1/chat/completions"


class SoakFaultsMiddleware:
    """Injects the soak faults named in ``faults`` (a no-op pass-through when none is set)."""

    def __init__(self, app: ASGIApp, faults: FaultSet) -> None:
        self.app = app
        self.leak_bytes = int(faults.number(LEAK_MEMORY)) * 1024
        self.creep_s_per_min, self.creep_after_s = creep_arguments(faults)
        percent = faults.number(INTERMITTENT_500)
        self.fail_every = max(1, round(100 / percent)) if percent else 0
        self.kept: list[bytearray] = []
        self.first_chat: float | None = None
        self.api_requests = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if self.leak_bytes:
            self.kept.append(bytearray(b"\x5a") * self.leak_bytes)  # written, so it is resident
        if self.creep_s_per_min and path == CHAT_PATH:
            now = time.monotonic()
            self.first_chat = self.first_chat if self.first_chat is not None else now
            creeping_s = max(0.0, now - self.first_chat - self.creep_after_s)
            if creeping_s:
                await anyio.sleep(self.creep_s_per_min * creeping_s / 60)
        if self.fail_every and path.startswith("/v1/"):
            self.api_requests += 1
            if self.api_requests % self.fail_every == 0:
                await _answer_500(send)
                return
        await self.app(scope, receive, send)


def creep_arguments(faults: FaultSet) -> tuple[float, float]:
    """(seconds of delay per minute, seconds before the creep starts) of ``latency_creep:MS_PER_MIN[:AFTER_S]``."""
    for ms_per_min, after_s in faults.args_of(LATENCY_CREEP):  # AFTER_S defaults to 0 (the catalog fills it in)
        return int(ms_per_min) / 1000, float(after_s)
    return 0.0, 0.0


async def _answer_500(send: Send) -> None:
    body = json.dumps(openai_error_body(f"injected failure (fault {INTERMITTENT_500.name})", type="server_error")).encode()
    await send({"type": "http.response.start", "status": 500,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def install_soak_faults(app: object, faults: FaultSet) -> None:
    """Add the middleware when one of its faults is set (call before the request tracking is added)."""
    if any(fault in faults for fault in (LEAK_MEMORY, LATENCY_CREEP, INTERMITTENT_500)):
        app.add_middleware(SoakFaultsMiddleware, faults=faults)  # type: ignore[attr-defined]
