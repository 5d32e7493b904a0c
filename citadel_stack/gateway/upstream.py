"""The HTTP client to the model services (OpenAI-compatible servers such as llama.cpp's)."""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Mapping

import httpx

from .config import ServiceConfig
from .errors import GatewayError, error_type_for_status, openai_error_body, service_unavailable
from .health import HEALTHY, PROBE_PATH, UNHEALTHY, UNREACHABLE, ServiceProbe
from .streaming import UpstreamStreamError

CHAT_PATH = "/v1/chat/completions"
# llama-cpp-python's server: POST {"input": str, "model": str} -> {"count": int}.
TOKEN_COUNT_PATH = "/extras/tokenize/count"

UPSTREAM_TIMEOUT = httpx.Timeout(connect=2.0, read=120.0, write=10.0, pool=10.0)


def messages_text(messages: list[Any]) -> str:
    """The text of every message content, concatenated (text parts of list contents included)."""
    texts: list[str] = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(
                part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
            )
    return "\n".join(texts)


def transport_error(exc: httpx.HTTPError, service: str) -> GatewayError:
    """The gateway's answer when the transport to a model service fails."""
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return service_unavailable(f"model service {service!r} is unavailable (could not connect)")
    if isinstance(exc, httpx.TimeoutException):
        return GatewayError(504, f"model service {service!r} timed out ({type(exc).__name__})", type="timeout")
    return GatewayError(502, f"model service {service!r} failed ({type(exc).__name__})", type="bad_gateway")


def upstream_status_error(response: httpx.Response, body: bytes, service: str) -> GatewayError:
    """Turn a non-2xx answer of a model service into a GatewayError.

    A 4xx keeps its status and OpenAI error (the client's request was refused); a 5xx becomes a 502 that
    says only which service failed: its message may carry the service's internals (paths, tracebacks).
    """
    if response.status_code >= 500:
        return GatewayError(502, f"model service {service!r} failed (HTTP {response.status_code})", type="bad_gateway")
    try:
        decoded = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        decoded = None
    if isinstance(decoded, dict) and isinstance(decoded.get("error"), dict):
        err = decoded["error"]
        error = GatewayError(response.status_code, str(err.get("message") or "upstream error"))
        error.body = openai_error_body(
            str(err.get("message") or "upstream error"),
            type=str(err.get("type") or error_type_for_status(response.status_code)),
            param=err.get("param"),
            code=err.get("code"),
        )
        return error
    detail = decoded.get("detail") if isinstance(decoded, dict) else body[:300].decode("utf-8", "replace")
    return GatewayError(
        response.status_code,
        f"model service {service!r} answered {response.status_code}: {detail}",
        type=error_type_for_status(response.status_code),
    )


class UpstreamClient:
    """One pooled httpx.AsyncClient for every model service; every call has a timeout."""

    def __init__(
        self,
        services: Mapping[str, ServiceConfig],
        transport: httpx.AsyncBaseTransport | None = None,
        token_cache_size: int = 2048,
    ) -> None:
        self.services = dict(services)
        self._client = httpx.AsyncClient(
            timeout=UPSTREAM_TIMEOUT,
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
            transport=transport,
            trust_env=False,
        )
        self._token_counts: OrderedDict[tuple[str, str, str], int] = OrderedDict()
        self._token_cache_size = token_cache_size
        # Learned per service: does its stream carry a usage chunk itself when asked?
        self.sends_stream_usage: dict[str, bool] = {}

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()

    def _url(self, service: str, path: str) -> str:
        return self.services[service].url + path

    async def chat(self, service: str, body: dict[str, Any]) -> dict[str, Any]:
        """A non-streamed chat completion; raises GatewayError on any failure."""
        return await self.post_json(service, CHAT_PATH, body)

    async def post_json(self, service: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST JSON to a service and return its JSON object; raises GatewayError on any failure."""
        try:
            response = await self._client.post(self._url(service, path), json=body)
        except httpx.HTTPError as exc:
            raise transport_error(exc, service) from exc
        if not response.is_success:
            raise upstream_status_error(response, response.content, service)
        try:
            answer = response.json()
        except ValueError as exc:
            raise GatewayError(502, f"model service {service!r} answered non-JSON", type="bad_gateway") from exc
        if not isinstance(answer, dict):
            raise GatewayError(502, f"model service {service!r} answered a non-object", type="bad_gateway")
        return answer

    @asynccontextmanager
    async def open_stream(self, service: str, body: dict[str, Any]) -> AsyncIterator[httpx.Response]:
        """Open a streamed chat completion; a non-2xx answer or transport failure raises GatewayError.

        The response is closed when the context ends.
        """
        request = self._client.build_request("POST", self._url(service, CHAT_PATH), json=body)
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise transport_error(exc, service) from exc
        try:
            if not response.is_success:
                try:
                    content = await response.aread()
                except httpx.HTTPError as exc:
                    raise transport_error(exc, service) from exc
                raise upstream_status_error(response, content, service)
            yield response
        finally:
            await response.aclose()

    @staticmethod
    async def stream_lines(response: httpx.Response, service: str) -> AsyncIterator[str]:
        """The text lines of an open stream; transport failures become UpstreamStreamError."""
        try:
            async for line in response.aiter_lines():
                yield line
        except httpx.HTTPError as exc:
            raise UpstreamStreamError(f"stream from model service {service!r} broke ({type(exc).__name__})") from exc

    async def count_prompt_tokens(self, service: str, upstream_model: str, messages: list[Any]) -> int:
        """Tokens of the message contents, counted by the service's tokenizer (cached).

        This is a LOWER BOUND of the true prompt tokens: the chat template (role markers, special
        tokens, a default system prompt) is applied by the service and cannot be rendered faithfully
        here, since the service does not expose its template. Returns 0 if the service cannot count.
        """
        text = messages_text(messages)
        key = (service, upstream_model, text)
        cached = self._token_counts.get(key)
        if cached is not None:
            self._token_counts.move_to_end(key)
            return cached
        try:
            response = await self._client.post(
                self._url(service, TOKEN_COUNT_PATH),
                json={"input": text, "model": upstream_model},
                timeout=httpx.Timeout(10.0, connect=2.0),
            )
            count = int(response.json()["count"]) if response.is_success else 0
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return 0
        self._token_counts[key] = count
        if len(self._token_counts) > self._token_cache_size:
            self._token_counts.popitem(last=False)
        return count

    async def probe(self, service: str, timeout_s: float) -> ServiceProbe:
        """``GET {url}/v1/models``: unreachable on connect error or timeout, unhealthy on non-200."""
        started = time.perf_counter()
        try:
            response = await self._client.get(self._url(service, PROBE_PATH), timeout=timeout_s)
        except httpx.TimeoutException as exc:
            return ServiceProbe(UNREACHABLE, _ms_since(started), f"timed out after {timeout_s} s ({type(exc).__name__})")
        except httpx.HTTPError as exc:
            return ServiceProbe(UNREACHABLE, _ms_since(started), f"could not connect ({type(exc).__name__})")
        latency = _ms_since(started)
        if response.status_code != 200:
            return ServiceProbe(UNHEALTHY, latency, f"answered HTTP {response.status_code}")
        return ServiceProbe(HEALTHY, latency, "answered HTTP 200")


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
