"""The official `openai` Python client, unmodified, as the compatibility probe of the gateway."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    import openai

from citadel_acceptance.config.endpoints import GatewaySettings, model_label


@dataclass
class OpenAIProbeResult:
    """What the official client managed to do; an exception ends the probe and is kept by name."""

    listed_models: list[str] = field(default_factory=list)
    answer: str = ""
    usage: dict[str, int] | None = None
    streamed_text: str = ""
    streamed_chunks: int = 0
    stream_usage: dict[str, int] | None = None
    stream_finish_reason: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    elapsed_ms: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view for the evidence."""
        return dict(self.__dict__)


def run_probe(settings: GatewaySettings, api_key: str, model: str, prompt: str, max_tokens: int) -> OpenAIProbeResult:
    """List models, chat, and stream with the official client pointed at the gateway."""
    import openai  # heavy: imported by the scenarios that use it only
    base = settings.base_url + settings.chat_path.removesuffix("/chat/completions")
    client = openai.OpenAI(base_url=base, api_key=api_key, timeout=settings.timeout_s, max_retries=0)
    result = OpenAIProbeResult()
    messages = [{"role": "user", "content": prompt}]
    with client:
        _timed(result, "list", lambda: result.listed_models.extend(m.id for m in client.models.list()))
        _timed(result, "chat", lambda: _chat(client, result, model, messages, max_tokens))
        _timed(result, "stream", lambda: _stream(client, result, model, messages, max_tokens))
    return result


def _timed(result: OpenAIProbeResult, name: str, action: Any) -> None:
    import openai

    started = time.perf_counter()
    try:
        action()
    except openai.OpenAIError as exc:
        result.errors[name] = f"{type(exc).__name__}: {exc}"
    result.elapsed_ms[name] = round((time.perf_counter() - started) * 1000, 2)


def _chat(client: openai.OpenAI, result: OpenAIProbeResult, model: str, messages: list, max_tokens: int) -> None:
    completion = client.chat.completions.create(model=model, messages=messages, max_tokens=max_tokens, temperature=0)
    result.answer = completion.choices[0].message.content or ""
    result.usage = completion.usage.model_dump() if completion.usage else None


def _stream(client: openai.OpenAI, result: OpenAIProbeResult, model: str, messages: list, max_tokens: int) -> None:
    stream = client.chat.completions.create(model=model, messages=messages, max_tokens=max_tokens, temperature=0,
                                            stream=True, stream_options={"include_usage": True})
    for chunk in stream:
        if chunk.usage:
            result.stream_usage = chunk.usage.model_dump()
        for choice in chunk.choices:
            if choice.delta and choice.delta.content:
                result.streamed_text += choice.delta.content
                result.streamed_chunks += 1
            if choice.finish_reason:
                result.stream_finish_reason = choice.finish_reason


def listing_problems(result: OpenAIProbeResult, expected_models: list[str],
                     aliases: Mapping[str, str] | None = None) -> list[str]:
    """What the official client's model list lacks: each expected model under the id the deployment serves it as
    (`aliases`: plan id -> served id; absent: the plan's id). Returns the problems found, [] when none."""
    if "list" in result.errors:
        return [f"the client's models.list() failed: {result.errors['list']}"]
    aliases = aliases or {}
    missing = [m for m in sorted(expected_models) if (aliases.get(m) or m) not in result.listed_models]
    named = ", ".join(model_label(m, aliases.get(m, "")) for m in missing)
    return [f"the client did not list {named} (listed {sorted(result.listed_models)})"] if missing else []


def answer_problems(result: OpenAIProbeResult) -> list[str]:
    """What went wrong with the official client's chat and streamed chat."""
    found = [f"the client's {name} call failed: {result.errors[name]}" for name in ("chat", "stream") if name in result.errors]
    if "chat" not in result.errors:
        if not result.answer.strip():
            found.append("the client received an empty answer")
        if not result.usage or not result.usage.get("completion_tokens"):
            found.append(f"the client's answer carries no usable usage: {result.usage!r}")
    if "stream" not in result.errors:
        if result.streamed_chunks < 2:
            found.append(f"the client received {result.streamed_chunks} streamed chunk(s) with text, expected several")
        if result.stream_finish_reason is None:
            found.append("the client's stream never carried a finish_reason")
        if not result.stream_usage:
            found.append("the client's stream carried no usage although include_usage was asked for")
    return found
