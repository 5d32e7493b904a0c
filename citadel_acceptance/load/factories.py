"""Request factories for the usual OpenAI-compatible calls (a factory returns a `RequestSpec` per index).

They are small frozen dataclasses rather than closures, so that a factory can be sent to the engine's worker
processes and Ray actors (workers.py): pickle takes a module-level class, never a closure.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from citadel_acceptance.load.records import RequestSpec


def _auth(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def _texts(value: Sequence[str] | str, what: str) -> tuple[str, ...]:
    texts = (value,) if isinstance(value, str) else tuple(value)
    if not texts:
        raise ValueError(f"{what} needs at least one {'prompt' if 'chat' in what else 'input'}")
    return texts


@dataclass(frozen=True)
class ChatRequests:
    """Chat completions to `path`, cycling through `prompts` (see chat_request_factory)."""

    model: str
    prompts: tuple[str, ...]
    max_tokens: int
    stream: bool
    headers: tuple[tuple[str, str], ...]
    path: str
    extra: tuple[tuple[str, Any], ...]

    def __call__(self, index: int) -> RequestSpec:
        body: dict[str, Any] = {"model": self.model, "messages": [{"role": "user",
                                                                   "content": self.prompts[index % len(self.prompts)]}],
                                "max_tokens": self.max_tokens, "stream": self.stream}
        if self.stream:
            body["stream_options"] = {"include_usage": True}
        body.update(dict(self.extra))
        return RequestSpec("POST", self.path, headers=dict(self.headers), json=body, stream=self.stream)


@dataclass(frozen=True)
class EmbeddingRequests:
    """Embedding requests to `path`, cycling through `inputs` (see embeddings_request_factory)."""

    model: str
    inputs: tuple[str, ...]
    headers: tuple[tuple[str, str], ...]
    path: str

    def __call__(self, index: int) -> RequestSpec:
        return RequestSpec("POST", self.path, headers=dict(self.headers),
                           json={"model": self.model, "input": self.inputs[index % len(self.inputs)]}, stream=False)


def chat_request_factory(model: str, prompts: Sequence[str] | str, *, max_tokens: int = 32, stream: bool = True,
                         api_key: str | None = None, path: str = "/v1/chat/completions",
                         extra: dict[str, Any] | None = None) -> ChatRequests:
    """Chat completions to `path` (relative to the engine's base URL), cycling through `prompts`.

    Streamed requests ask for `stream_options.include_usage`, so output tokens come from the server.
    """
    return ChatRequests(model, _texts(prompts, "a chat load"), max_tokens, stream, tuple(_auth(api_key).items()), path,
                        tuple((extra or {}).items()))


def embeddings_request_factory(model: str, inputs: Sequence[str] | str, *, api_key: str | None = None,
                               path: str = "/v1/embeddings") -> EmbeddingRequests:
    """Embedding requests to `path`, cycling through `inputs`."""
    return EmbeddingRequests(model, _texts(inputs, "an embeddings load"), tuple(_auth(api_key).items()), path)
