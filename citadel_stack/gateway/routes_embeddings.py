"""``POST /v1/embeddings``: OpenAI-compatible embeddings."""
from __future__ import annotations

import time

from typing import Any

import anyio
from fastapi import APIRouter, Depends, Request

from citadel_stack.faults import TRUNCATED_EMBEDDINGS

from .errors import bad_request
from .request_tracking import request_context
from .routes_chat import read_json_body
from .runtime import gateway_state, require_api_key, require_feature

router = APIRouter(dependencies=[Depends(require_api_key)])
open_router = APIRouter()  # fault auth_bypass_embeddings (self-test only): the same route without authentication
MAX_INPUTS = 64


async def create_embeddings(request: Request) -> dict[str, Any]:
    """One embedding per input text, from the configured embedding model."""
    state = gateway_state(request)
    embedder = require_feature(state, "embeddings", state.embedder)
    body = await read_json_body(request)
    if not isinstance(body, dict) or body.get("model") != embedder.config.model_id:
        raise bad_request(f"'model' must be the embedding model {embedder.config.model_id!r}", param="model",
                          code="model_not_found")
    texts = body.get("input")
    texts = [texts] if isinstance(texts, str) else texts
    if not isinstance(texts, list) or not texts or len(texts) > MAX_INPUTS or not all(
            isinstance(t, str) and t for t in texts):
        raise bad_request(f"'input' must be a non-empty string or a list of 1-{MAX_INPUTS} non-empty strings",
                          param="input")
    request_context(request).model = embedder.config.model_id
    started = time.monotonic()
    vectors, tokens = await embedder.embed(texts)
    if embedder.answer_slowdown > 1:  # fault embeddings_slower (self-test only)
        await anyio.sleep((embedder.answer_slowdown - 1) * (time.monotonic() - started))
    if TRUNCATED_EMBEDDINGS in state.config.faults:  # fault (self-test only): the answers' vectors are cut short
        dims = int(state.config.faults.number(TRUNCATED_EMBEDDINGS, 384))
        vectors = [list(v)[:dims] for v in vectors]
    return {"object": "list", "model": embedder.config.model_id,
            "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


router.add_api_route("/v1/embeddings", create_embeddings, methods=["POST"])
open_router.add_api_route("/v1/embeddings", create_embeddings, methods=["POST"])
