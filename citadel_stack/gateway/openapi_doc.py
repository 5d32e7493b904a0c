"""What the gateway's OpenAPI document says beyond FastAPI's defaults: Bearer authentication and request bodies.

The routes read their JSON bodies themselves (to answer OpenAI-style errors), so FastAPI cannot infer the
bodies; they are declared here, so that API tools (Schemathesis, client generators) can build requests and
know which operations need a key.
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

SCHEME = "bearerAuth"
PUBLIC_PATHS = frozenset({"/health", "/health/models", "/metrics", "/openapi.json"})

_TEXT = {"type": "string", "minLength": 1, "maxLength": 2000}
_METADATA = {"type": "object", "maxProperties": 32, "propertyNames": {"pattern": "^[A-Za-z0-9_-]{1,64}$"},
             "additionalProperties": {"anyOf": [{"type": "string", "maxLength": 200}, {"type": "boolean"},
                                                {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1}]}}
_RETRIEVAL = {"type": "object", "properties": {"top_k": {"type": "integer", "minimum": 1, "maximum": 20},
                                               "filter": _METADATA}}


def _chat(models: list[str]) -> dict[str, Any]:
    message = {"type": "object", "required": ["role", "content"],
               "properties": {"role": {"type": "string", "enum": ["system", "user", "assistant"]}, "content": _TEXT}}
    return {"type": "object", "required": ["model", "messages"], "properties": {
        "model": {"type": "string", "enum": models},
        "messages": {"type": "array", "minItems": 1, "maxItems": 8, "items": message},
        "max_tokens": {"type": "integer", "minimum": 1,
                       "description": "at most the operators' cap (max_tokens_cap of GET /admin/config)"},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "top_p": {"type": "number", "minimum": 0, "maximum": 1},
        "n": {"type": "integer", "enum": [1]},
        "stream": {"type": "boolean"},
        "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
        "retrieval": _RETRIEVAL}}


def request_bodies(models: list[str], embedding_model: str | None) -> dict[tuple[str, str], dict[str, Any]]:
    """(method, path) -> JSON schema of the request body."""
    embedding = {"type": "string", "enum": [embedding_model]} if embedding_model else {"type": "string"}
    return {
        ("post", "/v1/chat/completions"): _chat(models),
        ("post", "/v1/embeddings"): {"type": "object", "required": ["model", "input"], "properties": {
            "model": embedding, "input": {"anyOf": [_TEXT, {"type": "array", "minItems": 1, "maxItems": 16, "items": _TEXT}]}}},
        ("post", "/v1/documents"): {"type": "object", "required": ["content"], "properties": {
            "content": _TEXT, "title": {"type": "string", "maxLength": 200}, "metadata": _METADATA}},
        ("post", "/v1/retrieval"): {"type": "object", "required": ["query"], "properties": {"query": _TEXT, **_RETRIEVAL["properties"]}},
        ("post", "/admin/keys"): {"type": "object", "required": ["name", "role"], "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "role": {"type": "string", "enum": ["admin", "user", "readonly"]},
            "owner": {"type": "string", "maxLength": 200}, "run_id": {"type": "string", "maxLength": 200}}},
        ("put", "/admin/config"): {"type": "object", "minProperties": 1, "additionalProperties": True},
    }


def install(app: FastAPI, models: list[str], embedding_model: str | None, declare_security: bool = True) -> None:
    """Make `app.openapi()` declare Bearer authentication on protected operations and the request bodies.

    `declare_security=False` is the fault openapi_without_security (self-test only).
    """
    bodies = request_bodies(models, embedding_model)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            document(schema, bodies, declare_security)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document(schema: dict[str, Any], bodies: dict[tuple[str, str], dict[str, Any]], declare_security: bool = True) -> None:
    """Add the request bodies, and (unless told not to) the security scheme, per-operation security and 401/403."""
    if declare_security:
        schema.setdefault("components", {})["securitySchemes"] = {
            SCHEME: {"type": "http", "scheme": "bearer", "description": "an API key issued by an operator (POST /admin/keys)"}}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if (method, path) in bodies:
                operation["requestBody"] = {"required": True,
                                            "content": {"application/json": {"schema": bodies[(method, path)]}}}
            if not declare_security:
                continue
            if path in PUBLIC_PATHS:
                operation["security"] = []
                continue
            operation["security"] = [{SCHEME: []}]
            responses = operation.setdefault("responses", {})
            responses.setdefault("401", {"description": "no valid API key (WWW-Authenticate: Bearer)"})
            responses.setdefault("403", {"description": "the key's role does not allow this operation"})
            responses.setdefault("429", {"description": "the key's rate limit is reached (Retry-After)"})
