"""Request factories for the usual OpenAI-compatible calls (a factory returns a `RequestSpec` per index)."""
from __future__ import annotations

from typing import Any, Sequence

from citadel_acceptance.load.engine import RequestFactory
from citadel_acceptance.load.records import RequestSpec


def _auth(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def chat_request_factory(model: str, prompts: Sequence[str] | str, *, max_tokens: int = 32, stream: bool = True,
                         api_key: str | None = None, path: str = "/v1/chat/completions",
                         extra: dict[str, Any] | None = None) -> RequestFactory:
    """Chat completions to `path` (relative to the engine's base URL), cycling through `prompts`.

    Streamed requests ask for `stream_options.include_usage`, so output tokens come from the server.
    """
    texts = [prompts] if isinstance(prompts, str) else list(prompts)
    if not texts:
        raise ValueError("a chat load needs at least one prompt")
    headers = _auth(api_key)

    def factory(index: int) -> RequestSpec:
        body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": texts[index % len(texts)]}],
                                "max_tokens": max_tokens, "stream": stream}
        if stream:
            body["stream_options"] = {"include_usage": True}
        body.update(extra or {})
        return RequestSpec("POST", path, headers=dict(headers), json=body, stream=stream)

    return factory


def embeddings_request_factory(model: str, inputs: Sequence[str] | str, *, api_key: str | None = None,
                               path: str = "/v1/embeddings") -> RequestFactory:
    """Embedding requests to `path`, cycling through `inputs`."""
    texts = [inputs] if isinstance(inputs, str) else list(inputs)
    if not texts:
        raise ValueError("an embeddings load needs at least one input")
    headers = _auth(api_key)

    def factory(index: int) -> RequestSpec:
        return RequestSpec("POST", path, headers=dict(headers), json={"model": model, "input": texts[index % len(texts)]},
                           stream=False)

    return factory
