"""Embeddings: ask the embedding service, pool token vectors into one unit vector per input."""
from __future__ import annotations

import math
from typing import Any, Sequence

from .config import EmbeddingsConfig
from .errors import GatewayError, bad_request
from .upstream import UpstreamClient

EMBEDDINGS_PATH = "/v1/embeddings"
# The embedding service's context (n_ctx 2048 in the embedded stack) counts tokens; a byte-level tokenizer makes
# at most one token per UTF-8 byte, so this many bytes always fit, whatever the script.
MAX_INPUT_BYTES = 2000


def pooled(vectors: Any) -> list[float]:
    """One L2-normalised vector: the mean of token vectors, or the vector itself when already pooled.

    llama.cpp's server answers per-token vectors for models without a pooling head (SmolLM2);
    mean pooling then normalising is the usual sentence embedding built from them.
    """
    if not isinstance(vectors, list) or not vectors:
        raise GatewayError(502, "the embedding service answered an empty embedding", type="bad_gateway")
    rows = vectors if isinstance(vectors[0], list) else [vectors]
    width = len(rows[0])
    mean = [sum(row[i] for row in rows) / len(rows) for i in range(width)]
    norm = math.sqrt(sum(x * x for x in mean)) or 1.0
    return [x / norm for x in mean]


class Embedder:
    """Computes embeddings through the configured embedding service."""

    def __init__(self, config: EmbeddingsConfig, upstream: UpstreamClient, answer_slowdown: float = 1.0) -> None:
        self.config = config
        self._upstream = upstream
        self.answer_slowdown = answer_slowdown  # fault embeddings_slower (self-test only): POST /v1/embeddings answers take this many times as long; documents stored through the gateway are embedded without it

    async def embed(self, texts: Sequence[str]) -> tuple[list[list[float]], int]:
        """One vector per text, and the prompt tokens the service counted."""
        for text in texts:
            if len(text.encode("utf-8")) > MAX_INPUT_BYTES:
                raise bad_request(f"a text to embed is longer than the embedding model takes ({MAX_INPUT_BYTES} bytes "
                                  "of UTF-8)", code="input_too_long")
        body = {"model": self.config.upstream_model, "input": list(texts)}
        answer = await self._upstream.post_json(self.config.service, EMBEDDINGS_PATH, body)
        data = sorted(answer.get("data") or [], key=lambda item: item.get("index", 0))
        if len(data) != len(texts):
            raise GatewayError(502, f"the embedding service answered {len(data)} vectors for {len(texts)} inputs",
                               type="bad_gateway")
        tokens = int((answer.get("usage") or {}).get("prompt_tokens") or 0)
        return [pooled(item.get("embedding")) for item in data], tokens
