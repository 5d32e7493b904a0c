"""The gateway as a client sees it: OpenAI-compatible calls with timings, over httpx.

Every call returns an `Exchange` (what was asked, what came back, how long it took) so that steps can
attach it as evidence; credentials are redacted by the evidence module, never stored here in clear
beyond the request itself.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping

import httpx
from httpx_sse import connect_sse

from citadel_acceptance.config.profile import GatewaySettings


@dataclass
class Exchange:
    """One HTTP request and its answer."""

    method: str
    url: str
    status: int
    body: Any
    headers: dict[str, str]
    request_id: str
    elapsed_ms: float
    request_body: Any = None
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (headers of the request are not kept at all)."""
        return {"method": self.method, "url": self.url, "status": self.status, "request_id": self.request_id,
                "elapsed_ms": round(self.elapsed_ms, 2), "request_body": self.request_body,
                "response_headers": self.headers, "response_body": self.body, "error": self.error}


@dataclass
class StreamResult:
    """A streamed chat answer: every SSE event, its arrival time, and how the stream ended."""

    exchange: Exchange
    chunks: list[dict[str, Any]] = field(default_factory=list)
    chunk_times_ms: list[float] = field(default_factory=list)  # since the request was sent
    done_marker: bool = False
    events_after_done: int = 0
    undecodable: list[str] = field(default_factory=list)
    ttft_ms: float | None = None  # first chunk carrying content - request sent
    e2e_ms: float = 0.0  # last byte - request sent

    @property
    def content_chunks(self) -> list[dict[str, Any]]:
        """The chunks whose delta carries text."""
        return [c for c in self.chunks if _delta_content(c)]

    @property
    def content_times_ms(self) -> list[float]:
        """When each chunk carrying text arrived, in ms since the request was sent."""
        return [t for chunk, t in zip(self.chunks, self.chunk_times_ms) if _delta_content(chunk)]

    @property
    def text(self) -> str:
        """The answer's text, joined from the content chunks."""
        return "".join(_delta_content(c) for c in self.chunks)

    @property
    def usage(self) -> dict[str, Any] | None:
        """The `usage` object of the stream, if the server sent one."""
        for chunk in self.chunks:
            if chunk.get("usage"):
                return chunk["usage"]
        return None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view for the evidence."""
        return {"exchange": self.exchange.as_dict(), "done_marker": self.done_marker,
                "events_after_done": self.events_after_done, "ttft_ms": self.ttft_ms, "e2e_ms": self.e2e_ms,
                "chunk_times_ms": [round(t, 2) for t in self.chunk_times_ms], "chunks": self.chunks,
                "undecodable": self.undecodable}


def _delta_content(chunk: dict[str, Any]) -> str:
    for choice in chunk.get("choices") or []:
        content = (choice.get("delta") or {}).get("content")
        if content:
            return str(content)
    return ""


class GatewayClient:
    """Calls the gateway named by the profile with the run's API key."""

    def __init__(self, settings: GatewaySettings, api_key: str, aliases: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self._api_key = api_key
        self.aliases = dict(aliases or {})  # plan model id -> the id the deployment serves it as ([models.ID] alias)
        self._http = httpx.Client(base_url=settings.base_url, timeout=httpx.Timeout(settings.timeout_s, connect=5.0),
                                  verify=settings.verify_tls)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _headers(self, auth: bool | str) -> dict[str, str]:
        # a UUID: a gateway's request-id middleware may refuse anything else (the plan's answers 400 to other ids)
        headers = {self.settings.request_id_header: str(uuid.uuid4())}
        if auth is True:
            headers["Authorization"] = f"Bearer {self._api_key}"
        elif isinstance(auth, str):
            headers["Authorization"] = auth
        return headers

    def request_id_of(self, exchange: Exchange) -> str:
        """The request id the answer gave back (the profile's `request_id_header`, in any case), "" where none."""
        wanted = self.settings.request_id_header.lower()
        return next((value for name, value in exchange.headers.items() if name.lower() == wanted), "")

    def request(self, method: str, path: str, body: Any = None, auth: bool | str = True) -> Exchange:
        """One request; transport errors become an Exchange with status 0 and the error named."""
        headers = self._headers(auth)
        request_id = headers[self.settings.request_id_header]
        started = time.perf_counter()
        try:
            response = self._http.request(method, path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            return Exchange(method, f"{self.settings.base_url}{path}", 0, None, {}, request_id,
                            (time.perf_counter() - started) * 1000, body, f"{type(exc).__name__}: {exc}")
        elapsed = (time.perf_counter() - started) * 1000
        try:
            payload: Any = response.json()
        except ValueError:
            payload = response.text[:2000]
        return Exchange(method, str(response.url), response.status_code, payload, dict(response.headers),
                        request_id, elapsed, body)

    def get_text(self, path: str) -> tuple[int, str]:
        """GET a text resource in full (metrics); status 0 and the error on a transport failure."""
        try:
            response = self._http.get(path, headers=self._headers(False))
        except httpx.HTTPError as exc:
            return 0, f"{type(exc).__name__}: {exc}"
        return response.status_code, response.text

    def chat_body(self, model: str, prompt: str, max_tokens: int, **extra: Any) -> dict[str, Any]:
        """A deterministic chat request (temperature 0) with one user message, for `model` under the id the deployment
        serves it as (a plan id is translated through the profile's aliases; any other id is sent as it is)."""
        body: dict[str, Any] = {"model": self.aliases.get(model, model), "messages": [{"role": "user", "content": prompt}],
                                "max_tokens": max_tokens, "temperature": 0}
        body.update(extra)
        return body

    def chat(self, model: str, prompt: str, max_tokens: int, cacheable: bool = False) -> Exchange:
        """A non-streamed chat completion; unless `cacheable`, the prompt carries a unique reference so
        that no response cache can answer it (latency gates must measure the model)."""
        text = prompt if cacheable else f"{prompt} (reference {uuid.uuid4().hex[:8]})"
        return self.request("POST", self.settings.chat_path, self.chat_body(model, text, max_tokens))

    def stream_chat(self, model: str, prompt: str, max_tokens: int, include_usage: bool = True) -> StreamResult:
        """A streamed chat completion, every event timed from the moment the request was sent."""
        body = self.chat_body(model, prompt, max_tokens, stream=True)
        if include_usage:
            body["stream_options"] = {"include_usage": True}
        headers = self._headers(True)
        url = f"{self.settings.base_url}{self.settings.chat_path}"
        request_id = headers[self.settings.request_id_header]
        result = StreamResult(exchange=Exchange("POST", url, 0, None, {}, request_id, 0.0, body))
        started = time.perf_counter()
        try:
            with connect_sse(self._http, "POST", self.settings.chat_path, json=body, headers=headers) as source:
                response = source.response
                result.exchange.status = response.status_code
                result.exchange.headers = dict(response.headers)
                if response.status_code != 200 or "text/event-stream" not in response.headers.get("content-type", ""):
                    response.read()
                    result.exchange.body = _json_or_text(response.text)
                else:
                    self._read_events(source, result, started)
        except httpx.HTTPError as exc:
            result.exchange.error = f"{type(exc).__name__}: {exc}"
        result.e2e_ms = (time.perf_counter() - started) * 1000
        result.exchange.elapsed_ms = result.e2e_ms
        return result

    @staticmethod
    def _read_events(source: Any, result: StreamResult, started: float) -> None:
        for event in source.iter_sse():
            now_ms = (time.perf_counter() - started) * 1000
            if result.done_marker:
                result.events_after_done += 1
                continue
            if event.data.strip() == "[DONE]":
                result.done_marker = True
                continue
            try:
                chunk = json.loads(event.data)
            except ValueError:
                result.undecodable.append(event.data[:200])
                continue
            result.chunks.append(chunk)
            result.chunk_times_ms.append(now_ms)
            if result.ttft_ms is None and _delta_content(chunk):
                result.ttft_ms = now_ms


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text[:2000]
