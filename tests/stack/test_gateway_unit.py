"""Unit tests of the reference gateway: no PostgreSQL and no model server needed (except the slow test)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Iterable

import httpx
import pytest

from citadel_stack.gateway.auth import Authenticator, key_sha256, parse_bearer
from citadel_stack.gateway.config import GatewayConfig
from citadel_stack.gateway.database import ApiKey, RequestRecord, discover_migrations
from citadel_stack.gateway.errors import GatewayError, invalid_api_key, openai_error_body
from citadel_stack.gateway.faults import KNOWN_FAULTS, FaultSet
from citadel_stack.gateway.health import (
    DEGRADED,
    HEALTHY,
    UNHEALTHY,
    UNREACHABLE,
    ServiceProbe,
    aggregate_health,
    assumed_healthy,
)
from citadel_stack.gateway.json_log import JsonLinesLog, redact_secrets
from citadel_stack.gateway.streaming import (
    StreamOutcome,
    StreamPlan,
    StreamUsage,
    iter_sse_data,
    reemit_stream,
)

ADMIN_KEY = "citadel-test-admin-key-0123456789"


def run(coro: Any) -> Any:
    """Run a coroutine to completion in a fresh event loop."""
    return asyncio.run(coro)


def raw_config(**overrides: Any) -> dict[str, Any]:
    """A valid config dict, with some keys replaced."""
    raw: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 18000,
        "database_dsn": "postgresql://citadel_app:secret@127.0.0.1:5432/citadel_ai",
        "migrations_dsn": "postgresql://citadel_owner:secret@127.0.0.1:5432/citadel_ai",
        "admin_key_sha256": key_sha256(ADMIN_KEY),
        "models": {
            "mixtral": {"service": "smollm2", "upstream_model": "smollm2"},
            "phi3": {"service": "smollm2", "upstream_model": "smollm2"},
        },
        "services": {"smollm2": {"url": "http://127.0.0.1:18100"}},
        "faults": [],
        "health_timeout_s": 2.0,
        "log_path": "/tmp/gateway-unit.jsonl",
    }
    raw.update(overrides)
    return raw


def write_config(tmp_path: Path, raw: dict[str, Any]) -> Path:
    path = tmp_path / "gateway.json"
    path.write_text(json.dumps(raw))
    return path


async def aiter_of(items: Iterable[str]) -> AsyncIterator[str]:
    for item in items:
        yield item


def chunk(content: str | None = None, role: str | None = None, finish: str | None = None) -> dict[str, Any]:
    """A llama.cpp-style chat completion chunk."""
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "smollm2",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }


def sse_lines(chunks: list[dict[str, Any]], done: bool = True) -> list[str]:
    """The text lines an upstream sends for these chunks (as httpx's aiter_lines yields them)."""
    lines: list[str] = []
    for c in chunks:
        lines += [f"data: {json.dumps(c)}", ""]
    if done:
        lines += ["data: [DONE]", ""]
    return lines


UPSTREAM_CHUNKS = [chunk(role="assistant"), chunk("Hel"), chunk("lo"), chunk(""), chunk("!"), chunk(finish="stop")]


async def collect_stream(lines: list[str], plan: StreamPlan, prompt_tokens: int = 7) -> tuple[list[str], StreamOutcome, int]:
    calls = 0

    async def count() -> int:
        nonlocal calls
        calls += 1
        return prompt_tokens

    outcome = StreamOutcome()
    out = [text async for text in reemit_stream(iter_sse_data(aiter_of(lines)), plan, count, outcome)]
    return out, outcome, calls


def payloads(out: list[str]) -> list[str]:
    assert all(text.startswith("data: ") and text.endswith("\n\n") for text in out), out
    return [text[len("data: ") : -2] for text in out]


# --- configuration ---------------------------------------------------------------------------


def test_config_loads(tmp_path: Path) -> None:
    config = GatewayConfig.load(write_config(tmp_path, raw_config(faults=["no_done_marker"])))
    assert config.port == 18000
    assert config.models["phi3"].service == "smollm2"
    assert config.services["smollm2"].url == "http://127.0.0.1:18100"
    assert "no_done_marker" in config.faults
    assert config.health_timeout_s == 2.0


def test_config_unknown_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown keys \['colour'\]"):
        GatewayConfig.load(write_config(tmp_path, raw_config(colour="blue")))


def test_config_missing_key_is_refused(tmp_path: Path) -> None:
    raw = raw_config()
    del raw["log_path"]
    with pytest.raises(ValueError, match=r"missing keys \['log_path'\]"):
        GatewayConfig.load(write_config(tmp_path, raw))


def test_config_unknown_fault_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as info:
        GatewayConfig.load(write_config(tmp_path, raw_config(faults=["no_such_fault"])))
    assert "no_such_fault" in str(info.value)
    for name in KNOWN_FAULTS:
        assert name in str(info.value)


def test_config_model_on_unknown_service_is_refused(tmp_path: Path) -> None:
    models = {"phi3": {"service": "elsewhere", "upstream_model": "x"}}
    with pytest.raises(ValueError, match="elsewhere"):
        GatewayConfig.load(write_config(tmp_path, raw_config(models=models)))


def test_config_errors_never_show_the_dsn(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as info:
        GatewayConfig.load(write_config(tmp_path, raw_config(port="x")))
    assert "secret" not in str(info.value)


def test_fault_registry_has_the_four_faults() -> None:
    assert {"no_done_marker", "no_v1_models", "health_always_healthy", "accept_unknown_key"} <= set(KNOWN_FAULTS)
    assert all(fault.description for fault in KNOWN_FAULTS.values())
    assert not FaultSet.parse([])


# --- errors and auth -----------------------------------------------------------------------


def test_openai_error_body_shape() -> None:
    body = openai_error_body("bad model", param="model", code="model_not_found")
    assert body == {
        "error": {"message": "bad model", "type": "invalid_request_error", "param": "model", "code": "model_not_found"}
    }


def test_invalid_api_key_error() -> None:
    error = invalid_api_key("the API key is unknown or revoked")
    assert error.status_code == 401
    assert error.headers == {"WWW-Authenticate": "Bearer"}
    assert error.body["error"]["code"] == "invalid_api_key"
    assert set(error.body["error"]) == {"message", "type", "param", "code"}


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer", "Bearer two words", "Bearer k\u00e9y"])
def test_parse_bearer_refuses(header: str | None) -> None:
    with pytest.raises(GatewayError) as info:
        parse_bearer(header)
    assert info.value.status_code == 401


def test_parse_bearer_accepts() -> None:
    assert parse_bearer("Bearer abc-DEF_123.~+/==") == "abc-DEF_123.~+/=="
    assert parse_bearer("bearer xyz") == "xyz"


class FakeKeys:
    """An in-memory api_keys table."""

    def __init__(self) -> None:
        self.keys: dict[str, ApiKey] = {key_sha256(ADMIN_KEY): ApiKey(1, "bootstrap-admin", "admin")}
        self.lookups = 0

    async def find_active_key(self, digest: str) -> ApiKey | None:
        self.lookups += 1
        return self.keys.get(digest)


def test_authenticator_known_unknown_and_fault() -> None:
    keys = FakeKeys()
    auth = Authenticator(keys.find_active_key)
    assert run(auth.authenticate(f"Bearer {ADMIN_KEY}")).role == "admin"
    with pytest.raises(GatewayError) as info:
        run(auth.authenticate("Bearer not-a-known-key"))
    assert "not-a-known-key" not in json.dumps(info.value.body)
    lenient = Authenticator(keys.find_active_key, accept_unknown=True)
    assert run(lenient.authenticate("Bearer not-a-known-key")).role == "user"
    with pytest.raises(GatewayError):
        run(lenient.authenticate(None))


def test_authenticator_cache_expires() -> None:
    keys = FakeKeys()
    now = [100.0]
    auth = Authenticator(keys.find_active_key, cache_ttl_s=2.0, clock=lambda: now[0])
    run(auth.authenticate(f"Bearer {ADMIN_KEY}"))
    run(auth.authenticate(f"Bearer {ADMIN_KEY}"))
    assert keys.lookups == 1
    keys.keys.clear()  # revoked
    now[0] += 2.5
    with pytest.raises(GatewayError):
        run(auth.authenticate(f"Bearer {ADMIN_KEY}"))
    with pytest.raises(ValueError):
        Authenticator(keys.find_active_key, cache_ttl_s=6.0)


# --- streaming -------------------------------------------------------------------------------


def test_iter_sse_data_joins_and_skips() -> None:
    lines = [": ping", "event: x", "data: a", "data: b", "", "data:c", "", "data: tail"]
    assert run(_list(iter_sse_data(aiter_of(lines)))) == ["a\nb", "c", "tail"]


async def _list(it: AsyncIterator[str]) -> list[str]:
    return [x async for x in it]


def test_stream_reemits_with_usage_and_done() -> None:
    out, outcome, calls = run(
        collect_stream(sse_lines(UPSTREAM_CHUNKS), StreamPlan("phi3", include_usage=True, send_done=True))
    )
    data = payloads(out)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert len(chunks) == len(UPSTREAM_CHUNKS) + 1
    assert all(c["model"] == "phi3" for c in chunks)
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"] == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    assert outcome.completed and outcome.error is None and calls == 1


def test_stream_without_usage_request_has_no_usage_chunk() -> None:
    out, _, calls = run(collect_stream(sse_lines(UPSTREAM_CHUNKS), StreamPlan("phi3", include_usage=False)))
    data = payloads(out)
    assert data[-1] == "[DONE]"
    assert all("usage" not in json.loads(d) for d in data[:-1])
    assert calls == 0


def test_stream_fault_no_done_marker_keeps_usage() -> None:
    out, outcome, _ = run(
        collect_stream(sse_lines(UPSTREAM_CHUNKS), StreamPlan("mixtral", include_usage=True, send_done=False))
    )
    data = payloads(out)
    assert "[DONE]" not in data
    assert json.loads(data[-1])["usage"]["completion_tokens"] == 3
    assert outcome.completed


def test_stream_prefers_upstream_usage_chunk() -> None:
    usage = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "smollm2",
             "choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": 3, "total_tokens": 23}}
    out, _, calls = run(
        collect_stream(sse_lines(UPSTREAM_CHUNKS + [usage]), StreamPlan("phi3", include_usage=True))
    )
    chunks = [json.loads(d) for d in payloads(out)[:-1]]
    assert sum(1 for c in chunks if "usage" in c) == 1
    assert chunks[-1]["usage"] == {"prompt_tokens": 20, "completion_tokens": 3, "total_tokens": 23}
    assert calls == 0


def test_stream_broken_upstream_has_no_done() -> None:
    lines = sse_lines(UPSTREAM_CHUNKS[:2], done=False) + ["data: {not json", ""]
    out, outcome, _ = run(collect_stream(lines, StreamPlan("phi3", include_usage=True)))
    data = payloads(out)
    assert "[DONE]" not in data
    assert "error" in json.loads(data[-1])
    assert not outcome.completed and outcome.error


def test_stream_usage_counts_content_chunks_only() -> None:
    usage = StreamUsage()
    for c in UPSTREAM_CHUNKS:
        usage.observe(c)
    assert usage.usage(prompt_tokens=5) == {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}


# --- health ----------------------------------------------------------------------------------

CONFIG = GatewayConfig.from_dict(
    raw_config(services={"a": {"url": "http://127.0.0.1:1"}, "b": {"url": "http://127.0.0.1:2"}},
               models={"mixtral": {"service": "a", "upstream_model": "m"},
                       "phi3": {"service": "b", "upstream_model": "m"}})
)
DB_OK = ServiceProbe(HEALTHY, 1.0, "ok", url_checked="SELECT 1")


def probes(a: str, b: str) -> dict[str, ServiceProbe]:
    return {"a": ServiceProbe(a, 1.0, "x"), "b": ServiceProbe(b, 2.0, "y")}


@pytest.mark.parametrize(
    ("a", "b", "db", "overall"),
    [
        (HEALTHY, HEALTHY, HEALTHY, HEALTHY),
        (HEALTHY, UNREACHABLE, HEALTHY, DEGRADED),
        (UNHEALTHY, UNREACHABLE, UNHEALTHY, UNHEALTHY),
        (HEALTHY, HEALTHY, UNREACHABLE, DEGRADED),
    ],
)
def test_health_aggregation(a: str, b: str, db: str, overall: str) -> None:
    body = aggregate_health(CONFIG.models, probes(a, b), ServiceProbe(db, 1.0, "", url_checked="SELECT 1"))
    assert body["status"] == overall
    assert body["services"]["b"]["status"] == b
    assert body["services"]["a"]["url_checked"] == "/v1/models"
    assert body["models"] == {"mixtral": {"service": "a", "status": a}, "phi3": {"service": "b", "status": b}}
    assert body["database"]["status"] == db


def test_health_always_healthy_fault_helper() -> None:
    body = aggregate_health(CONFIG.models, assumed_healthy(["a", "b"]), DB_OK)
    assert body["status"] == HEALTHY
    assert {m["status"] for m in body["models"].values()} == {HEALTHY}


def test_redact_secrets() -> None:
    text = "postgresql://citadel_app:s3cr3t@127.0.0.1:5432/db host=x password=abc"
    assert "s3cr3t" not in redact_secrets(text) and "abc" not in redact_secrets(text)
    assert "citadel_app:***@" in redact_secrets(text)


def test_migrations_are_numbered() -> None:
    versions = [m.version for m in discover_migrations()]
    assert versions and versions == sorted(versions) and versions[0] == "0001"


# --- the app, with a fake database and a fake model service ---------------------------------


class FakeDatabase(FakeKeys):
    """In-memory stand-in for database.Database."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[RequestRecord] = []

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def ensure_admin_key(self, key_sha256: str, name: str = "bootstrap-admin") -> None:
        self.keys.setdefault(key_sha256, ApiKey(1, name, "admin"))

    async def log_request(self, record: RequestRecord) -> None:
        self.rows.append(record)

    async def probe(self, timeout_s: float) -> ServiceProbe:
        return DB_OK


def fake_model_service(request: httpx.Request) -> httpx.Response:
    """A model service: /v1/models, /extras/tokenize/count and chat (streamed or not)."""
    if request.url.path == "/v1/models":
        return httpx.Response(200, json={"object": "list", "data": [{"id": "smollm2"}]})
    if request.url.path == "/extras/tokenize/count":
        return httpx.Response(200, json={"count": len(json.loads(request.content)["input"].split())})
    body = json.loads(request.content)
    assert body["model"] == "smollm2"
    if body.get("stream"):
        text = "".join(line + "\n" for line in sse_lines(UPSTREAM_CHUNKS))
        return httpx.Response(200, content=text.encode(), headers={"content-type": "text/event-stream"})
    return httpx.Response(200, json={
        "id": "chatcmpl-2", "object": "chat.completion", "created": 1, "model": "smollm2",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10},
    })


@pytest.fixture
def make_client(tmp_path: Path):
    from fastapi.testclient import TestClient

    from citadel_stack.gateway.app import create_app

    clients: list[TestClient] = []

    def make(faults: list[str] | None = None, handler=fake_model_service) -> tuple[TestClient, FakeDatabase]:
        config = GatewayConfig.from_dict(raw_config(faults=faults or [], log_path=str(tmp_path / "gw.jsonl")))
        db = FakeDatabase()
        app = create_app(config, database=db, migrate=False, upstream_transport=httpx.MockTransport(handler),
                         system_metrics=False)
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client, db

    yield make
    for client in clients:
        client.__exit__(None, None, None)


AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
CHAT = {"model": "phi3", "messages": [{"role": "user", "content": "say hello now"}]}


def test_app_auth_models_and_request_log(make_client, tmp_path: Path) -> None:
    client, db = make_client()
    missing = client.get("/v1/models")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error"]["code"] == "invalid_api_key"
    wrong = client.get("/v1/models", headers={"Authorization": "Bearer wrong-key-123"})
    assert wrong.status_code == 401 and "wrong-key-123" not in wrong.text
    ok = client.get("/v1/models", headers={**AUTH, "X-Request-ID": "req-42"})
    assert ok.status_code == 200 and ok.headers["x-request-id"] == "req-42"
    assert [m["id"] for m in ok.json()["data"]] == ["mixtral", "phi3"]
    assert client.get("/models", headers=AUTH).status_code == 200
    assert client.get("/metrics").status_code == 200
    assert [r.status_code for r in db.rows] == [401, 401, 200, 200]
    assert db.rows[2].request_id == "req-42" and db.rows[2].api_key_id == 1
    log_text = (tmp_path / "gw.jsonl").read_text()
    assert ADMIN_KEY not in log_text and "secret" not in log_text and "req-42" in log_text


def test_app_chat_non_streamed_and_errors(make_client) -> None:
    client, db = make_client()
    answer = client.post("/v1/chat/completions", headers=AUTH, json=CHAT)
    assert answer.status_code == 200 and answer.json()["model"] == "phi3" and answer.json()["usage"]
    unknown = client.post("/v1/chat/completions", headers=AUTH, json={**CHAT, "model": "gpt-9"})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "model_not_found"
    empty = client.post("/v1/chat/completions", headers=AUTH, json={**CHAT, "messages": []})
    assert empty.status_code == 400 and empty.json()["error"]["param"] == "messages"
    broken = client.post("/v1/chat/completions", headers={**AUTH, "Content-Type": "application/json"},
                         content=b"{nope")
    assert broken.status_code == 400
    assert db.rows[0].model == "phi3"
    metrics = client.get("/metrics").text
    assert 'model_requests_total{model_name="phi3",service="smollm2",status="success"} 1.0' in metrics


def test_app_chat_streamed_with_usage(make_client) -> None:
    client, db = make_client()
    body = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    with client.stream("POST", "/v1/chat/completions", headers=AUTH, json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        data = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    final = json.loads(data[-2])
    assert final["usage"] == {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6}
    assert db.rows[-1].status_code == 200 and db.rows[-1].model == "phi3"


def test_app_faults(make_client) -> None:
    client, _ = make_client(faults=["no_done_marker", "no_v1_models", "accept_unknown_key", "health_always_healthy"])
    assert client.get("/v1/models", headers=AUTH).status_code == 404
    assert client.get("/models", headers={"Authorization": "Bearer anything-goes"}).status_code == 200
    assert client.get("/models").status_code == 401
    body = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    text = client.post("/v1/chat/completions", headers=AUTH, json=body).text
    assert "[DONE]" not in text and '"usage"' in text
    assert client.get("/health").json()["services"]["smollm2"]["detail"] == "not probed"


def test_app_health_and_unreachable_service(make_client) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client, _ = make_client(handler=down)
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == DEGRADED  # the database is up, the only service is not
    assert health.json()["services"]["smollm2"]["status"] == UNREACHABLE
    assert client.get("/health/models").json()["models"]["phi3"]["status"] == UNREACHABLE
    chat = client.post("/v1/chat/completions", headers=AUTH, json=CHAT)
    assert chat.status_code == 503 and chat.json()["error"]["type"] == "service_unavailable"


def test_app_refuses_input_no_model_or_database_could_take(make_client) -> None:
    """Found by Schemathesis: each of these once reached a model service or PostgreSQL and came back as a 5xx."""
    client, _ = make_client()
    headers = {**AUTH, "Content-Type": "application/json"}
    surrogate = client.post("/v1/chat/completions", headers=headers,
                            content=b'{"model": "phi3", "messages": [{"role": "user", "content": "\\udc00"}]}')
    assert surrogate.status_code == 400 and "surrogate" in surrogate.json()["error"]["message"]
    nul = client.post("/v1/chat/completions", headers=AUTH, json={**CHAT, "messages": [{"role": "user", "content": "a\x00b"}]})
    assert nul.status_code == 400 and "NUL" in nul.json()["error"]["message"]
    no_content = client.post("/v1/chat/completions", headers=AUTH, json={**CHAT, "messages": [{"role": "user"}]})
    assert no_content.status_code == 400 and no_content.json()["error"]["param"] == "messages"
    parts = client.post("/v1/chat/completions", headers=AUTH,
                        json={**CHAT, "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]})
    assert parts.status_code == 200


def test_app_forwards_no_nulls_and_hides_a_failing_service(make_client) -> None:
    seen: list[dict[str, Any]] = []

    def strict(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        if any(value is None for value in body.values()):
            return httpx.Response(500, json={"error": {"message": "Traceback File \"/srv/llama_cpp/server/app.py\""}})
        return fake_model_service(request)

    client, _ = make_client(handler=strict)
    assert client.post("/v1/chat/completions", headers=AUTH, json={**CHAT, "stream": None}).status_code == 200
    assert "stream" not in seen[-1]

    def failing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"error": {"message": "Traceback File \"/srv/llama_cpp/server/app.py\""}})

    client, _ = make_client(handler=failing)
    answer = client.post("/v1/chat/completions", headers=AUTH, json=CHAT)
    assert answer.status_code == 502 and "/srv/" not in answer.text and "Traceback" not in answer.text


def test_openapi_declares_bearer_auth_and_bodies(make_client) -> None:
    client, _ = make_client()
    document = client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["paths"]["/v1/models"]["get"]["security"] == [{"bearerAuth": []}]
    assert document["paths"]["/health"]["get"]["security"] == []
    chat = document["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert chat["properties"]["model"]["enum"] == ["mixtral", "phi3"] and chat["required"] == ["model", "messages"]
    bare, _ = make_client(faults=["openapi_without_security"])
    undeclared = bare.get("/openapi.json").json()
    assert "security" not in undeclared["paths"]["/v1/models"]["get"]
    assert "requestBody" in undeclared["paths"]["/v1/chat/completions"]["post"]


# --- PostgreSQL (slow; a scratch server, or CITADEL_TEST_PG_DSN's superuser DSN) -------------


@pytest.mark.slow
def test_migrations_and_queries_against_postgres(pg_admin_dsn: str) -> None:
    import psycopg
    from psycopg.conninfo import make_conninfo

    from citadel_stack.gateway.database import Database, apply_migrations, discover_migrations

    admin_dsn = pg_admin_dsn
    dbname = f"gwtest_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        for role in ("citadel_app", "citadel_owner"):
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"CREATE DATABASE {dbname} OWNER citadel_owner")
    try:
        owner = make_conninfo(admin_dsn, dbname=dbname, user="citadel_owner")
        app = make_conninfo(admin_dsn, dbname=dbname, user="citadel_app")
        assert run(apply_migrations(owner)) == [m.version for m in discover_migrations()]
        assert run(apply_migrations(owner)) == []

        async def exercise() -> None:
            db = Database(app, min_size=1, max_size=2)
            await db.open()
            try:
                digest = hashlib.sha256(b"k").hexdigest()
                await db.ensure_admin_key(digest)
                await db.ensure_admin_key(digest)
                key = await db.find_active_key(digest)
                assert key is not None and key.role == "admin"
                await db.log_request(RequestRecord("r1", key.id, "GET", "/models", None, 200, 1.5))
                assert (await db.probe(2.0)).status == HEALTHY
                async with db.pool.connection() as conn:
                    with pytest.raises(psycopg.errors.InsufficientPrivilege):
                        await conn.execute("CREATE TABLE nope (x int)")
            finally:
                await db.close()

        run(exercise())
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
