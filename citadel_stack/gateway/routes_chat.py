"""``POST /v1/chat/completions``: validate, route to the model's service, answer (streamed or not)."""

from __future__ import annotations

import time

import json
from contextlib import AsyncExitStack
from typing import Any, AsyncIterator, Container, Mapping

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse

from .config import ModelRoute
from .errors import GatewayError, bad_request
from citadel_stack.faults import (FAIL_RATIO, GATEWAY_DELAY, INJECTION_GUARD_OFF, INJECTION_OBEYED, LEAK_UPSTREAM_MODEL,
                                  NO_CITATIONS, NO_DONE_MARKER, NO_REQUEST_VALIDATION, NO_USAGE, SINGLE_CHUNK_STREAM,
                                  BUFFERED_STREAM)
from .response_cache import cache_key
from .security import injected_payload, looks_like_injection
from .request_tracking import request_context
from .database import ApiKey
from .retrieval import context_message, parse_request, retrieve
from .runtime import GatewayState, gateway_state, require_api_key
from .streaming import StreamOutcome, StreamPlan, iter_sse_data, reemit_stream

router = APIRouter(dependencies=[Depends(require_api_key)])


def validate_chat_request(body: Any, models: Mapping[str, ModelRoute]) -> ModelRoute:
    """The route for a chat request body; a 400 GatewayError names the offending field."""
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("'model' is required and must be a string", param="model")
    if model not in models:
        raise bad_request(
            f"The model '{model}' does not exist; served models: {', '.join(sorted(models))}",
            param="model",
            code="model_not_found",
        )
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("'messages' must be a non-empty list", param="messages")
    if not all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages):
        raise bad_request("each message must be an object with a 'role'", param="messages")
    if not all(_content_ok(m) for m in messages):
        raise bad_request("each message needs a 'content': text, or a list of text parts "
                          "(null only for an assistant's message)", param="messages")
    if "stream" in body and body["stream"] is not None and not isinstance(body["stream"], bool):
        raise bad_request("'stream' must be a boolean", param="stream")
    return models[model]


def _content_ok(message: Mapping[str, Any]) -> bool:
    content = message.get("content")
    if isinstance(content, str):
        return True
    if content is None:
        return message.get("role") == "assistant"
    return isinstance(content, list) and all(
        isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str) for part in content)


def _check_text(value: Any) -> None:
    """Every string of a decoded body must be storable text: no lone surrogate (JSON can escape one), no NUL."""
    if isinstance(value, str):
        if "\x00" in value:
            raise bad_request("the request body holds a NUL character, which no text field may contain")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise bad_request("the request body holds text that is not valid Unicode (a lone surrogate)") from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def wants_usage(body: Mapping[str, Any]) -> bool:
    """Whether a streamed request asked for the final usage chunk."""
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


async def read_json_body(request: Request) -> Any:
    """The decoded body; malformed JSON is a 400."""
    raw = await request.body()
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise bad_request(f"the request body is not valid JSON ({exc.__class__.__name__})") from exc
    _check_text(body)
    return body


@router.post("/v1/chat/completions")
async def chat_completions(request: Request, key: ApiKey = Depends(require_api_key)) -> Any:
    """OpenAI chat completions, forwarded to the service behind the requested model.

    An extra `retrieval` object ({"top_k", "filter"}) puts the caller's most relevant documents into
    the prompt; the answer then lists them under `citations`.
    """
    state = gateway_state(request)
    body = await read_json_body(request)
    faults = state.config.faults
    if NO_REQUEST_VALIDATION in faults and isinstance(body, dict):  # fault (self-test only)
        route = state.config.models.get(body.get("model"), next(iter(state.config.models.values())))
    else:
        route = validate_chat_request(body, state.config.models)
    request_context(request).model = route.model_id
    _check_max_tokens(state, body)
    _check_parameters(body)
    guard = guarded(faults)
    if guard and any(looks_like_injection(str(m.get("content", ""))) for m in body.get("messages", [])
                     if isinstance(m, dict) and m.get("role") == "user"):
        state.metrics.threats.labels("direct").inc()
        raise bad_request("the request was refused: it looks like a prompt-injection attempt", param="messages",
                          code="prompt_injection_detected")
    # OpenAI treats an explicit null as "not given"; llama.cpp would refuse it with a 500.
    upstream_body = {**{k: v for k, v in body.items() if v is not None}, "model": route.upstream_model}
    citations = await _add_retrieved_context(state, key, body, upstream_body)
    await _injected_faults(state, route)
    if body.get("stream") is True and SINGLE_CHUNK_STREAM in faults:
        return await _stream_in_one_chunk(state, route, body, {**upstream_body, "stream": False})
    if body.get("stream") is True:
        return await _stream_answer(state, route, body, upstream_body)
    tracker = state.metrics.start_inference(route.model_id, route.service, state.config.faults)
    key_for_cache = cache_key(key.owner or key.name, body) if state.cache is not None else None
    answer = state.cache.get(key_for_cache) if key_for_cache else None
    if key_for_cache:
        state.metrics.cache_requests.labels(route.model_id, "hit" if answer else "miss").inc()
    if answer is not None:
        tracker.finish(True)
        return JSONResponse(answer, headers={"X-Cache": "hit"})
    success = False
    try:
        started = time.monotonic()
        answer = await state.upstream.chat(route.service, upstream_body)
        success = True
    finally:
        tracker.finish(success)
    slowdown = faults.model_slowdowns().get(route.model_id, 1.0)
    if slowdown > 1:  # fault model_slower (self-test only)
        await anyio.sleep((slowdown - 1) * (time.monotonic() - started))
    answer["model"] = route.upstream_model if LEAK_UPSTREAM_MODEL in faults else route.model_id
    if NO_USAGE in faults:
        answer.pop("usage", None)
    if citations is not None and NO_CITATIONS not in faults:
        answer["citations"] = citations
    if INJECTION_OBEYED in faults:  # fault (self-test only): the answer becomes what an injection asked for
        _obey(answer, upstream_body)
    if key_for_cache:
        state.cache.put(key_for_cache, answer)
    return JSONResponse(answer, headers={"X-Cache": "miss"} if key_for_cache else None)


def guarded(faults: Container[object]) -> bool:
    """Whether prompt injections are looked for (not under the faults injection_guard_off and injection_obeyed)."""
    return INJECTION_GUARD_OFF not in faults and INJECTION_OBEYED not in faults


async def _injected_faults(state: GatewayState, route: ModelRoute) -> None:
    """Faults gateway_delay and fail_ratio (self-test only)."""
    faults = state.config.faults
    delay_s = faults.number(GATEWAY_DELAY) / 1000
    if delay_s:
        await anyio.sleep(delay_s)
    percent = faults.number(FAIL_RATIO)
    if percent:
        state.chat_count += 1
        if state.chat_count % max(1, round(100 / percent)) == 0:
            raise GatewayError(500, f"injected failure (fault {FAIL_RATIO.name})", type="server_error")


async def _add_retrieved_context(
    state: GatewayState, key: ApiKey, body: Mapping[str, Any], upstream_body: dict[str, Any]
) -> list[dict[str, Any]] | None:
    """Prepend the retrieved passages as a system message; None when the request asks for no retrieval."""
    options = upstream_body.pop("retrieval", None)
    if options is None:
        return None
    if not isinstance(options, dict):
        raise bad_request("'retrieval' must be an object with 'top_k' and 'filter'", param="retrieval")
    top_k, metadata = parse_request(options)
    questions = [m.get("content") for m in body["messages"] if m.get("role") == "user" and isinstance(m.get("content"), str)]
    if not questions:
        raise bad_request("retrieval needs a user message with text", param="messages")
    hits = await retrieve(state, key, questions[-1], top_k, metadata)
    guard = guarded(state.config.faults)
    upstream_body["messages"] = [context_message(hits, guard=guard, on_threat=state.metrics.threats.labels("retrieved").inc),
                                 *body["messages"]]
    return [{"document_id": h.document_id, "score": round(h.score, 6), "title": h.payload.get("title", "")} for h in hits]


async def _stream_in_one_chunk(
    state: GatewayState, route: ModelRoute, body: Mapping[str, Any], upstream_body: dict[str, Any]
) -> StreamingResponse:
    """Fault ``single_chunk_stream``: the whole answer generated first, then sent as one content chunk."""
    answer = await state.upstream.chat(route.service, upstream_body)
    choice = answer["choices"][0]
    base = {"id": answer.get("id"), "object": "chat.completion.chunk", "created": answer.get("created"),
            "model": route.model_id}
    chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": choice["message"]["content"]},
                                    "finish_reason": None}]},
              {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": choice.get("finish_reason", "stop")}]}]
    if wants_usage(body):
        chunks.append({**base, "choices": [], "usage": answer.get("usage")})
    text = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"
    return StreamingResponse(iter([text]), media_type="text/event-stream")


async def _stream_answer(
    state: GatewayState, route: ModelRoute, body: Mapping[str, Any], upstream_body: dict[str, Any]
) -> StreamingResponse:
    """Open the upstream stream (errors before the first byte are plain HTTP errors), then re-emit it."""
    started = time.monotonic()  # fault model_slower stretches all of the answer, the prompt count included
    include_usage = wants_usage(body) and NO_USAGE not in state.config.faults
    upstream = state.upstream
    # llama.cpp's server sends no usage chunk, so the prompt is counted here, before the stream:
    # its count endpoint waits for the model lock, which the stream would hold (see upstream.py).
    prompt_tokens = 0
    if include_usage and not upstream.sends_stream_usage.get(route.service, False):
        prompt_tokens = await upstream.count_prompt_tokens(route.service, route.upstream_model, body["messages"])

    async def counted_prompt_tokens() -> int:
        return prompt_tokens

    tracker = state.metrics.start_inference(route.model_id, route.service, state.config.faults)
    exits = AsyncExitStack()
    try:
        response = await exits.enter_async_context(upstream.open_stream(route.service, upstream_body))
    except BaseException:
        await exits.aclose()
        tracker.finish(False)
        raise
    plan = StreamPlan(
        requested_model=route.upstream_model if LEAK_UPSTREAM_MODEL in state.config.faults else route.model_id,
        include_usage=include_usage,
        send_done=NO_DONE_MARKER not in state.config.faults,
        slowdown=state.config.faults.model_slowdowns().get(route.model_id, 1.0),
        started=started,
    )
    outcome = StreamOutcome()

    held: list[str] | None = [] if BUFFERED_STREAM in state.config.faults else None  # fault (self-test only)

    async def sse() -> AsyncIterator[str]:
        try:
            payloads = iter_sse_data(upstream.stream_lines(response, route.service))
            async for text in reemit_stream(payloads, plan, counted_prompt_tokens, outcome):
                if held is None:
                    yield text
                else:
                    held.append(text)
            if held:
                yield "".join(held)
        finally:
            with anyio.CancelScope(shield=True):
                await exits.aclose()
            tracker.finish(outcome.completed)
            if outcome.completed and include_usage:
                upstream.sends_stream_usage[route.service] = outcome.usage.upstream_usage is not None

    return StreamingResponse(
        sse(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )



def _check_max_tokens(state: GatewayState, body: Mapping[str, Any]) -> None:
    """`max_tokens` must be a positive integer within the operators' cap (runtime setting max_tokens_cap)."""
    if "max_tokens" not in body or body["max_tokens"] is None:
        return
    value = body["max_tokens"]
    cap = state.runtime_config.current["max_tokens_cap"] if state.runtime_config is not None else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or (cap is not None and value > cap):
        raise bad_request(f"'max_tokens' must be an integer from 1 to {cap if cap is not None else 'the model limit'}",
                          param="max_tokens")


RANGES = {"temperature": (0.0, 2.0), "top_p": (0.0, 1.0), "presence_penalty": (-2.0, 2.0),
          "frequency_penalty": (-2.0, 2.0)}


def _check_parameters(body: Mapping[str, Any]) -> None:
    """Sampling parameters within OpenAI's ranges, and only one choice per request: else 400, never a 5xx."""
    for name, (low, high) in RANGES.items():
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high):
            raise bad_request(f"'{name}' must be a number from {low:g} to {high:g}", param=name)
    if body.get("n") not in (None, 1):
        raise bad_request("'n' must be 1: one answer per request", param="n")


def _obey(answer: dict[str, Any], upstream_body: Mapping[str, Any]) -> None:
    """Fault injection_obeyed: replace the answer with the payload an injected instruction asked for."""
    for message in upstream_body.get("messages", []):
        payload = injected_payload(str(message.get("content", ""))) if isinstance(message, dict) else None
        if payload and answer.get("choices"):
            answer["choices"][0]["message"]["content"] = payload
            return
