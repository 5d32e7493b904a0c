"""Server-Sent Events re-emission of upstream chat completion streams, with usage accounting.

Pure pieces, testable without the app: ``iter_sse_data`` turns upstream text lines into event
payloads, ``StreamUsage`` counts tokens, and ``reemit_stream`` produces the SSE text the gateway
sends (model id rewritten, an optional final usage chunk, and the ``[DONE]`` marker unless a
fault suppresses it).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable

from .errors import openai_error_body

DONE_PAYLOAD = "[DONE]"


def format_sse(payload: str) -> str:
    """One SSE event carrying ``payload`` as its single data line."""
    return f"data: {payload}\n\n"


def format_chunk(chunk: dict[str, Any]) -> str:
    """One SSE event carrying a JSON chunk."""
    return format_sse(json.dumps(chunk, separators=(",", ":"), ensure_ascii=False))


async def iter_sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """Yield the data of each SSE event in ``lines`` (lines without their newline).

    Multi-line data is joined with newlines (as the SSE spec says); comments (lines starting
    with ``:``) and other fields (``event:``, ``id:``, ``retry:``) are ignored. An event still
    open when the lines end is yielded too.
    """
    data_lines: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data_lines:
                yield "\n".join(data_lines)
                data_lines = []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if name == "data":
            data_lines.append(value[1:] if value.startswith(" ") else value)
    if data_lines:
        yield "\n".join(data_lines)


def chunk_has_content(chunk: dict[str, Any]) -> bool:
    """Whether any choice of an upstream chunk carries non-empty delta content."""
    for choice in chunk.get("choices") or ():
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if isinstance(delta, dict) and isinstance(delta.get("content"), str) and delta["content"]:
            return True
    return False


def is_usage_chunk(chunk: dict[str, Any]) -> bool:
    """Whether a chunk is the final usage-only chunk (``choices`` empty, ``usage`` set)."""
    return not chunk.get("choices") and isinstance(chunk.get("usage"), dict)


@dataclass
class StreamUsage:
    """Token accounting over one stream.

    ``completion_tokens`` counts upstream chunks whose delta carries non-empty content: llama.cpp's
    server sends one content chunk per generated token. ``upstream_usage`` keeps a usage chunk
    if the upstream sent one itself (vLLM does when asked); it then wins over the count.
    """

    completion_tokens: int = 0
    upstream_usage: dict[str, Any] | None = None
    last_id: str | None = None
    last_created: int | None = None

    def observe(self, chunk: dict[str, Any]) -> None:
        """Account for one upstream chunk."""
        if chunk_has_content(chunk):
            self.completion_tokens += 1
        if isinstance(chunk.get("usage"), dict):
            self.upstream_usage = chunk["usage"]
        if isinstance(chunk.get("id"), str):
            self.last_id = chunk["id"]
        if isinstance(chunk.get("created"), int):
            self.last_created = chunk["created"]

    def usage(self, prompt_tokens: int) -> dict[str, int]:
        """The usage object: the upstream's if it sent one, else computed from the count."""
        if self.upstream_usage is not None:
            up = self.upstream_usage
            prompt = int(up.get("prompt_tokens") or 0)
            completion = int(up.get("completion_tokens") or 0)
            return {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": int(up.get("total_tokens") or prompt + completion),
            }
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": prompt_tokens + self.completion_tokens,
        }


@dataclass(frozen=True)
class StreamPlan:
    """How to re-emit one stream: the model id the client asked for, and what to append."""

    requested_model: str
    include_usage: bool
    send_done: bool = True
    slowdown: float = 1.0  # fault model_slower (self-test only): the stream's end waits (slowdown - 1) x its length
    started: float = 0.0  # when the gateway began the answer: before the prompt count (time.monotonic)


@dataclass
class StreamOutcome:
    """What happened to a stream, filled in while it runs (read by metrics after it ends)."""

    usage: StreamUsage = field(default_factory=StreamUsage)
    completed: bool = False
    error: str | None = None


class UpstreamStreamError(Exception):
    """The upstream stream broke or sent something that is not a chat completion chunk."""


async def reemit_stream(
    payloads: AsyncIterator[str],
    plan: StreamPlan,
    prompt_tokens: Callable[[], Awaitable[int]],
    outcome: StreamOutcome | None = None,
) -> AsyncIterator[str]:
    """Yield the SSE text for the client from upstream event payloads.

    Each upstream chunk is re-emitted with ``model`` set to ``plan.requested_model``. An upstream
    usage-only chunk is held back and replaces the computed usage. When ``plan.include_usage`` is
    set, a final chunk with ``choices: []`` and ``usage`` follows; ``prompt_tokens`` is awaited only
    when the upstream sent no usage itself. ``data: [DONE]`` ends the stream unless
    ``plan.send_done`` is false. If the upstream breaks, an OpenAI error event is sent and the
    stream ends without ``[DONE]`` (a broken stream must look broken); ``outcome.error`` says why.
    """
    outcome = outcome if outcome is not None else StreamOutcome()
    usage = outcome.usage
    try:
        async for data in payloads:
            if data.strip() == DONE_PAYLOAD:
                break
            try:
                chunk = json.loads(data)
            except json.JSONDecodeError as exc:
                raise UpstreamStreamError(f"upstream sent an event that is not JSON: {data[:200]!r}") from exc
            if not isinstance(chunk, dict):
                raise UpstreamStreamError(f"upstream sent a non-object event: {data[:200]!r}")
            if "error" in chunk and "choices" not in chunk:
                raise UpstreamStreamError(f"upstream stream error: {json.dumps(chunk['error'])[:300]}")
            usage.observe(chunk)
            if is_usage_chunk(chunk):
                continue
            chunk["model"] = plan.requested_model
            yield format_chunk(chunk)
        if plan.slowdown > 1:
            await asyncio.sleep((plan.slowdown - 1) * (time.monotonic() - plan.started))
        if plan.include_usage:
            counted_prompt = 0 if usage.upstream_usage is not None else await prompt_tokens()
            yield format_chunk(
                {
                    "id": usage.last_id or "chatcmpl-citadel",
                    "object": "chat.completion.chunk",
                    "created": usage.last_created or 0,
                    "model": plan.requested_model,
                    "choices": [],
                    "usage": usage.usage(counted_prompt),
                }
            )
        if plan.send_done:
            yield format_sse(DONE_PAYLOAD)
        outcome.completed = True
    except UpstreamStreamError as exc:
        outcome.error = str(exc)
        yield format_chunk(openai_error_body(str(exc), type="upstream_error", code="upstream_stream_error"))
