"""What an OpenAI-compatible answer must look like: each function lists the problems it finds."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from citadel_acceptance.config.endpoints import model_label

FINISH_REASONS = {"stop", "length", "tool_calls", "content_filter", "function_call"}
USAGE_FIELDS = ("prompt_tokens", "completion_tokens", "total_tokens")


def model_list_problems(body: Any, expected_ids: Iterable[str], aliases: Mapping[str, str] | None = None) -> list[str]:
    """A model list `{"object": "list", "data": [{"id", "object": "model"}...]}` naming every expected id, each under
    the id the deployment serves it as (`aliases`: plan id -> served id; absent: the plan's id). Returns the problems
    found, [] when there are none."""
    if not isinstance(body, dict):
        return [f"expected a JSON object, got {type(body).__name__}: {str(body)[:120]!r}"]
    aliases = aliases or {}
    problems = []
    if body.get("object") != "list":
        problems.append(f"expected object 'list', got {body.get('object')!r}")
    data = body.get("data")
    if not isinstance(data, list):
        return problems + [f"expected 'data' to be a list, got {type(data).__name__}"]
    listed = {item.get("id") for item in data if isinstance(item, dict)}
    expected = sorted(expected_ids)
    missing = [m for m in expected if (aliases.get(m) or m) not in listed]
    if missing:
        named = ", ".join(model_label(m, aliases.get(m, "")) for m in missing)
        problems.append(f"expected models {expected}, missing {named} (listed: {sorted(map(str, listed))})")
    for item in data:
        if isinstance(item, dict) and item.get("object") != "model":
            problems.append(f"entry {item.get('id')!r} has object {item.get('object')!r}, expected 'model'")
    return problems


def usage_problems(usage: Any, where: str) -> list[str]:
    """`usage` with non-negative integer token counts that add up, and at least one output token."""
    if not isinstance(usage, dict):
        return [f"expected a usage object in {where}, got {usage!r}"]
    problems = []
    for name in USAGE_FIELDS:
        value = usage.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            problems.append(f"usage.{name} in {where} should be a non-negative integer, got {value!r}")
    if not problems:
        if usage["prompt_tokens"] + usage["completion_tokens"] != usage["total_tokens"]:
            problems.append(f"usage in {where} does not add up: {usage['prompt_tokens']} + "
                            f"{usage['completion_tokens']} != {usage['total_tokens']}")
        if usage["completion_tokens"] < 1:
            problems.append(f"usage.completion_tokens in {where} is 0 for an answer with text")
        if usage["prompt_tokens"] < 1:
            problems.append(f"usage.prompt_tokens in {where} is 0 for a request with a prompt")
    return problems


def chat_completion_problems(body: Any, model: str, served: str = "") -> list[str]:
    """A `chat.completion` for `model` (answered under `served`, the deployment's id for it, where given) with one
    assistant message that has text (its usage is a gate of its own, `usage_problems`: not judged here, a missing
    usage would stop the scenario before its usage step could fail). Returns the problems found, [] when none."""
    if not isinstance(body, dict):
        return [f"expected a JSON object, got {type(body).__name__}: {str(body)[:160]!r}"]
    problems = []
    if body.get("object") != "chat.completion":
        problems.append(f"expected object 'chat.completion', got {body.get('object')!r}")
    if not isinstance(body.get("id"), str) or not body.get("id"):
        problems.append("expected a non-empty string id")
    if body.get("model") != (served or model):
        problems.append(f"expected model {model_label(model, served)}, got {body.get('model')!r}")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        problems.append(f"expected at least one choice, got {choices!r}")
    else:
        message = choices[0].get("message") or {}
        if message.get("role") != "assistant":
            problems.append(f"expected the message role 'assistant', got {message.get('role')!r}")
        if not isinstance(message.get("content"), str) or not message["content"].strip():
            problems.append(f"expected the answer to have text, got {message.get('content')!r}")
        if choices[0].get("finish_reason") not in FINISH_REASONS:
            problems.append(f"expected a finish_reason in {sorted(FINISH_REASONS)}, got {choices[0].get('finish_reason')!r}")
    return problems


def stream_problems(chunks: list[dict[str, Any]], content_chunks: int, done_marker: bool, events_after_done: int,
                    undecodable: list[str], model: str, served: str = "") -> list[str]:
    """A stream of `chat.completion.chunk` events for `model` (under `served`, the deployment's id for it, where
    given), in several pieces, closed by `[DONE]`. Returns the problems found, [] when there are none."""
    problems = []
    if content_chunks < 2:
        problems.append(f"expected the answer in several chunks, got {content_chunks} chunk(s) with text")
    wrong_object = {c.get("object") for c in chunks} - {"chat.completion.chunk"}
    if wrong_object:
        problems.append(f"expected every event to be a 'chat.completion.chunk', also got {sorted(map(str, wrong_object))}")
    ids = {c.get("id") for c in chunks}
    if len(ids) > 1:
        problems.append(f"expected one id for the whole stream, got {len(ids)}")
    models = {c.get("model") for c in chunks} - {served or model}
    if models:
        problems.append(f"expected model {model_label(model, served)} in every chunk, also got {sorted(map(str, models))}")
    finish = [ch.get("finish_reason") for c in chunks for ch in c.get("choices") or [] if ch.get("finish_reason")]
    if not finish:
        problems.append("expected the last choice chunk to carry a finish_reason, none did")
    if undecodable:
        problems.append(f"{len(undecodable)} event(s) were not JSON, first: {undecodable[0]!r}")
    if not done_marker:
        problems.append("expected the stream to end with `data: [DONE]`, it ended without it")
    elif events_after_done:
        problems.append(f"expected `data: [DONE]` to be the last event, {events_after_done} came after it")
    return problems


BURST_MS = 5.0  # chunks read within this of the last one came in the same burst


def incremental_problems(content_times_ms: list[float]) -> list[str]:
    """The text arrives as it is written: at least a third of the chunks with text (and at least one) arrive more
    than BURST_MS before the last. A stream held back and sent whole (a buffering proxy) arrives in one burst,
    every chunk within microseconds of the others; a client on a busy host may read a few chunks together, hence
    a third rather than most."""
    count = len(content_times_ms)
    if count < 2:
        return []  # too few chunks: the count of pieces says so
    first, last = min(content_times_ms), max(content_times_ms)
    early = sum(1 for t in content_times_ms if t < last - BURST_MS)
    if early >= max(1, count // 3):
        return []
    return [f"the text arrived in one burst, not as it was written: {early} of {count} chunks with text arrived more "
            f"than {BURST_MS:g} ms before the last (first {first:.1f} ms, last {last:.1f} ms after the request was sent)"]


def stream_usage_problems(usage: Any, content_chunks: int) -> list[str]:
    """The stream's usage chunk exists and counts at least as many output tokens as text chunks arrived."""
    problems = usage_problems(usage, "the stream's usage chunk")
    if not problems and usage["completion_tokens"] < content_chunks:
        problems.append(f"usage.completion_tokens {usage['completion_tokens']} is below the {content_chunks} "
                        "chunks of text received: tokens were miscounted")
    return problems


def error_style(body: Any) -> str | None:
    """Which convention an error body follows: "openai" for `{"error": {...}}`, "fastapi" for `{"detail": ...}`,
    None for neither."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return "openai"
    if isinstance(body, dict) and "detail" in body:
        return "fastapi"
    return None


def error_body_problems(body: Any) -> list[str]:
    """An error body that says what is wrong, in either convention: OpenAI's `{"error": {"message": str, "type": str,
    "param"?}}`, or FastAPI's `{"detail": str}` or `{"detail": [{"loc": [...], "msg": str, "type": str}, ...]}` (its
    validation errors). Returns the problems found, [] when there are none."""
    style = error_style(body)
    if style == "fastapi":
        return _detail_problems(body["detail"])
    if style is None:
        return [f"expected an OpenAI error body {{'error': {{...}}}} or FastAPI's {{'detail': ...}}, "
                f"got {str(body)[:160]!r}"]
    error = body["error"]
    problems = []
    if not isinstance(error.get("message"), str) or not error["message"]:
        problems.append("expected error.message to say what is wrong")
    if not isinstance(error.get("type"), str) or not error["type"]:
        problems.append("expected error.type")
    return problems


def _detail_problems(detail: Any) -> list[str]:
    if isinstance(detail, str):
        return [] if detail.strip() else ["expected detail to say what is wrong, it is empty"]
    if not isinstance(detail, list) or not detail:
        return [f"expected detail to be a message or FastAPI's list of validation errors, got {str(detail)[:160]!r}"]
    problems = []
    for i, item in enumerate(detail):
        if not isinstance(item, dict) or not isinstance(item.get("loc"), list) \
                or not isinstance(item.get("msg"), str) or not item["msg"]:
            problems.append(f"expected detail[{i}] to be a validation error {{'loc': [...], 'msg': str, 'type': str}}, "
                            f"got {str(item)[:120]!r}")
    return problems


def _names_param(body: Any, param: str) -> bool:
    """Whether an error body names `param`: OpenAI's `param` or message; FastAPI's detail text, or a `loc` or
    `msg` of its validation list (names are compared without regard to case)."""
    wanted = param.lower()
    if error_style(body) == "openai":
        error = body["error"]
        return str(error.get("param")).lower() == wanted or wanted in str(error.get("message", "")).lower()
    detail = body["detail"]
    if isinstance(detail, str):
        return wanted in detail.lower()
    return any(wanted in (str(part).lower() for part in item.get("loc", []))
               or wanted in str(item.get("msg", "")).lower() for item in detail if isinstance(item, dict))


def invalid_request_problems(status: int, body: Any, param: str) -> list[str]:
    """400 with an error body (OpenAI's or FastAPI's, see `error_body_problems`) that names the offending parameter
    (`model`, `messages`). Returns the problems found, [] when there are none."""
    problems = [] if status == 400 else [f"expected 400, got {status}"]
    problems += error_body_problems(body)
    if not problems and not _names_param(body, param):
        if error_style(body) == "openai":
            error = body["error"]
            problems.append(f"expected the error to name {param!r}, got param {error.get('param')!r}, "
                            f"message {error.get('message')!r}")
        else:
            problems.append(f"expected the error to name {param!r}, got detail {str(body['detail'])[:200]!r}")
    return problems


def status_problems(status: int, body: Any, error: str, expected: int = 200) -> list[str]:
    """The answer has the expected HTTP status (a transport error counts as status 0 and is named)."""
    if status == expected:
        return []
    seen = f"transport error {error}" if status == 0 else f"{status}: {str(body)[:200]}"
    return [f"expected HTTP {expected}, got {seen}"]
