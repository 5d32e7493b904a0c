"""``/v1/documents`` (store, read, list, delete) and ``POST /v1/retrieval``, scoped to the key's owner."""
from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from citadel_stack.faults import METADATA_NOT_STORED

from .database import ApiKey
from .errors import GatewayError, bad_request
from .retrieval import hit_view, metadata_ok, parse_request, retrieve
from .routes_chat import read_json_body
from .runtime import gateway_state, require_feature, require_role

router = APIRouter()
WRITERS = Depends(require_role("admin", "user"))
READERS = Depends(require_role("admin", "user", "readonly"))
MAX_METADATA_KEYS = 32


def _not_found(doc_id: str) -> GatewayError:
    return GatewayError(404, f"no document {doc_id}", type="not_found_error", code="document_not_found")


def _document_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise _not_found(raw) from None


@router.post("/v1/documents", status_code=201)
async def store_document(request: Request, key: ApiKey = WRITERS) -> JSONResponse:
    """Embed the text, store its vector in Qdrant and its row in PostgreSQL, owned by the caller."""
    state = gateway_state(request)
    documents, index = require_feature(state, "documents", state.documents), require_feature(state, "a vector store", state.vector_index)
    body = await read_json_body(request)
    content, title, metadata = _parse_document(body)
    vectors, _ = await state.embedder.embed([content])
    owner = key.owner or key.name
    row = await documents.insert(owner, title, content, metadata)
    try:
        kept = {k: v for k, v in metadata.items() if k == "run_id"} if METADATA_NOT_STORED in state.config.faults \
            else metadata  # fault metadata_not_stored: self-test only
        await index.upsert(row["id"], vectors[0], {"document_id": row["id"], "owner": owner, "title": title,
                                                   "text": content, "metadata": kept,
                                                   "run_id": metadata.get("run_id")})
    except GatewayError:
        await documents.delete(owner, uuid.UUID(row["id"]))
        raise
    return JSONResponse(row, status_code=201)


def _parse_document(body: Any) -> tuple[str, str, dict[str, Any]]:
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    content, title, metadata = body.get("content"), body.get("title", ""), body.get("metadata") or {}
    if not isinstance(content, str) or not content.strip():
        raise bad_request("'content' must be non-empty text", param="content")
    if not isinstance(title, str):
        raise bad_request("'title' must be text", param="title")
    if not metadata_ok(metadata, MAX_METADATA_KEYS):
        raise bad_request(f"'metadata' must be an object of at most {MAX_METADATA_KEYS} keys (letters, digits, '_' or "
                          "'-', up to 64) with string, 64-bit integer or boolean values", param="metadata")
    return content, title, metadata


@router.get("/v1/documents")
async def list_documents(request: Request, key: ApiKey = READERS) -> dict[str, Any]:
    """The caller's documents, newest first."""
    state = gateway_state(request)
    documents = require_feature(state, "documents", state.documents)
    return {"object": "list", "data": await documents.list(key.owner or key.name)}


@router.get("/v1/documents/{doc_id}")
async def read_document(doc_id: str, request: Request, key: ApiKey = READERS) -> dict[str, Any]:
    """One of the caller's documents; another owner's document is 'not found' (no existence leak)."""
    state = gateway_state(request)
    row = await require_feature(state, "documents", state.documents).get(key.owner or key.name, _document_id(doc_id))
    if row is None:
        raise _not_found(doc_id)
    return row


@router.delete("/v1/documents/{doc_id}")
async def delete_document(doc_id: str, request: Request, key: ApiKey = WRITERS) -> dict[str, Any]:
    """Delete one of the caller's documents: its vector, then its row."""
    state = gateway_state(request)
    documents, index = require_feature(state, "documents", state.documents), require_feature(state, "a vector store", state.vector_index)
    owner, parsed = key.owner or key.name, _document_id(doc_id)
    if await documents.get(owner, parsed) is None:
        raise _not_found(doc_id)
    await index.delete(str(parsed))
    await documents.delete(owner, parsed)
    return {"id": doc_id, "object": "document", "deleted": True}


@router.post("/v1/retrieval")
async def retrieval(request: Request, key: ApiKey = READERS) -> dict[str, Any]:
    """The caller's documents nearest to `query` whose metadata matches `filter`."""
    state = gateway_state(request)
    body = await read_json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("query"), str) or not body["query"].strip():
        raise bad_request("'query' must be non-empty text", param="query")
    top_k, metadata = parse_request(body)
    hits = await retrieve(state, key, body["query"], top_k, metadata)
    return {"object": "list", "data": [hit_view(h) for h in hits]}
