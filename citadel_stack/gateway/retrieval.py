"""Retrieval: the caller's documents nearest to a question, and the prompt passage built from them."""
from __future__ import annotations

import re

from typing import Any, Mapping

from citadel_stack.faults import OWNER_FILTER_MISSING

from .database import ApiKey
from .errors import bad_request
from .runtime import GatewayState, require_feature
from .security import neutralised
from .vector_index import Hit

MAX_TOP_K = 20


def parse_request(body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    """(top_k, metadata filter) of a retrieval request; 400 for anything else."""
    top_k = body.get("top_k", 3)
    if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= MAX_TOP_K:
        raise bad_request(f"'top_k' must be an integer 1-{MAX_TOP_K}", param="top_k")
    metadata = body.get("filter") or {}
    if not metadata_ok(metadata):
        raise bad_request("'filter' must be an object of metadata key (letters, digits, '_' or '-', up to 64) -> "
                          "string, 64-bit integer or boolean", param="filter")
    return top_k, metadata


METADATA_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # a key is also a payload path (metadata.KEY) in filters
INT64 = (-(2**63), 2**63 - 1)


def metadata_ok(metadata: Any, max_keys: int = 32) -> bool:
    """Metadata (of a document, or a filter) that the vector store can store and filter on."""
    return isinstance(metadata, dict) and len(metadata) <= max_keys and all(
        isinstance(k, str) and METADATA_KEY.match(k) and (
            isinstance(v, (str, bool)) or (isinstance(v, int) and INT64[0] <= v <= INT64[1]))
        for k, v in metadata.items())


async def retrieve(state: GatewayState, key: ApiKey, query: str, top_k: int, metadata: dict[str, Any]) -> list[Hit]:
    """Embed the query and search the caller's documents (owner filter always applied)."""
    embedder = require_feature(state, "embeddings", state.embedder)
    index = require_feature(state, "a vector store", state.vector_index)
    vectors, _ = await embedder.embed([query])
    owner = None if OWNER_FILTER_MISSING in state.config.faults else key.owner or key.name  # fault: self-test only
    return await index.search(vectors[0], owner, metadata, top_k)


def hit_view(hit: Hit) -> dict[str, Any]:
    """A retrieved document as the API shows it."""
    return {"document_id": hit.document_id, "score": round(hit.score, 6), "title": hit.payload.get("title", ""),
            "metadata": hit.payload.get("metadata", {}), "text": hit.payload.get("text", "")}


def context_message(hits: list[Hit], guard: bool = True, on_threat: Any = None) -> dict[str, str]:
    """A system message carrying the retrieved passages as quoted data, instruction-like text removed (guard)."""
    def clean(text: str) -> str:
        if not guard:
            return text
        cleaned = neutralised(text)
        if cleaned != text and on_threat is not None:
            on_threat()
        return cleaned

    passages = "\n".join(f"[document {h.document_id}] {clean(h.payload.get('text', ''))}" for h in hits)
    return {"role": "system", "content": "Answer using these documents and cite them by id when you use them:\n"
                                         + (passages or "(no matching document)")}
