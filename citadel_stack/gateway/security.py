"""Protections of the gateway: security headers, body size limit, per-key rate limits, prompt-injection guard."""
from __future__ import annotations

import re
import time
from collections import defaultdict, deque
from typing import Any, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import GatewayError, openai_error_body

MAX_BODY_BYTES = 1024 * 1024
WINDOW_S = 60.0
INJECTION = re.compile(
    r"(?i)\b(ignore|disregard|forget)\b[^.\n]{0,40}\b(previous|prior|above|all|earlier)\b[^.\n]{0,40}"
    r"\b(instructions?|rules|prompts?|messages?)\b|\byou are now\b|\bsystem prompt\b|\breply only with\b|"
    r"\brespond only with\b")


class SecurityHeadersMiddleware:
    """nosniff on every answer, no-store on API answers, HSTS over HTTPS; requests bodies over 1 MiB get 413."""

    def __init__(self, app: ASGIApp, nosniff: bool = True, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.nosniff = nosniff  # fault missing_security_header turns it off
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await _too_large(send, self.max_body)
            return
        https = scope.get("scheme") == "https"
        path = scope.get("path", "")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                if self.nosniff:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if path not in ("/metrics",) and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                if https:
                    headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                message["headers"] = headers
            await send(message)

        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise GatewayError(413, f"the request body is larger than {self.max_body} bytes",
                                       type="invalid_request_error", code="request_too_large")
            return message

        await self.app(scope, counted, with_headers)


async def _too_large(send: Send, limit: int) -> None:
    import json

    body = json.dumps(openai_error_body(f"the request body is larger than {limit} bytes",
                                        code="request_too_large")).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"x-content-type-options", b"nosniff"),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """A sliding one-minute window of requests per key; admin keys (operators' tools) are not limited."""

    def __init__(self, limit: Callable[[], int], enabled: bool = True, retry_after: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._enabled = enabled  # fault rate_limit_off
        self._retry_after = retry_after  # fault no_retry_after
        self._clock = clock
        self._seen: dict[Any, deque[float]] = defaultdict(deque)

    def check(self, key_id: Any, role: str) -> None:
        """Count one request of the key; raise 429 (with Retry-After) past the limit."""
        if not self._enabled or role == "admin":
            return
        now, window = self._clock(), self._seen[key_id]
        while window and now - window[0] >= WINDOW_S:
            window.popleft()
        if len(window) >= self._limit():
            wait = max(1, int(WINDOW_S - (now - window[0])) + 1)
            headers = {"Retry-After": str(wait)} if self._retry_after else {}
            raise GatewayError(429, f"rate limit of {self._limit()} requests per minute reached; retry in {wait} s",
                               type="rate_limit_error", code="rate_limit_exceeded", headers=headers)
        window.append(now)


def looks_like_injection(text: str) -> bool:
    """Whether text carries instruction-like phrases aimed at the model (OWASP LLM01)."""
    return bool(INJECTION.search(text or ""))


PAYLOAD = re.compile(r"(?i)\breply only with\s+([A-Za-z0-9_-]+)")


def injected_payload(text: str) -> str | None:
    """What an injection asks the model to say ("reply only with X" -> X), if anything."""
    found = PAYLOAD.search(text or "")
    return found.group(1) if found else None


def neutralised(text: str) -> str:
    """A retrieved passage with its instruction-like sentences removed (the rest stays usable)."""
    sentences = re.split(r"(?<=[.!?\n])\s+", text or "")
    return " ".join(s if not looks_like_injection(s) else "[instruction-like text removed]" for s in sentences)
