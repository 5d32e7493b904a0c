"""One user's request followed through gateway, database, vector store and metrics."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from citadel_acceptance.checks.database import probe as database_probe

from citadel_acceptance.checks.monitoring import gateway_metrics as metrics_probe

from citadel_acceptance.checks.vector import probe as vector_probe
from citadel_acceptance.target.data_api import IssuedKey
from citadel_acceptance.target.gateway_client import Exchange
from citadel_acceptance.verdict import Verdict

if TYPE_CHECKING:
    from citadel_acceptance.run.session import RunSession

REQUEST_COUNTER = "model_requests_total"
LOG_WAIT_S = 3.0


@dataclass
class Answer:
    """The answer to the user's question and what the gateway counted meanwhile."""

    exchange: Exchange
    counter_delta: float


def scrape(session: RunSession) -> dict:
    """The gateway's metrics now."""
    status, text = session.gateway.get_text(session.profile.gateway.metrics_path)
    if status != 200:
        raise AssertionError(f"expected 200 and Prometheus text from GET {session.profile.gateway.metrics_path}, "
                             f"got {status}: {text[:200]}")
    return metrics_probe.parse(text)


def ask(session: RunSession, key: IssuedKey, model: str, question: str) -> Answer:
    """Ask with retrieval, counting the model's requests before and after."""
    before = scrape(session)
    exchange = session.api.ask_with_retrieval(key, model, question, top_k=3, max_tokens=session.profile.probe.max_tokens)
    after = scrape(session)
    return Answer(exchange, metrics_probe.delta(before, after, REQUEST_COUNTER, model_name=model))


def citation_verdict(exchange: Exchange, document_id: str, title: str) -> Verdict:
    """The answer has text and lists the document among its citations."""
    body = exchange.body if isinstance(exchange.body, dict) else {}
    problems = [] if exchange.status == 200 else [f"expected 200, got {exchange.status}: {str(exchange.body)[:200]}"]
    if not problems:
        cited = [c.get("document_id") for c in body.get("citations") or []]
        if document_id not in cited:
            problems.append(f"expected the document {title!r} ({document_id}) among the citations, got {cited}")
        text = ((body.get("choices") or [{}])[0].get("message") or {}).get("content")
        if not text:
            problems.append("expected the answer to have text")
    return Verdict.from_problems("answer cites the document", problems, "document_id ∈ answer.citations", exchange.url)


def request_log_rows(session: RunSession, request_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The request-log rows of the user's requests, waiting briefly for the gateway's asynchronous write."""
    dsn = session.profile.secret("database_dsn")
    deadline = time.monotonic() + LOG_WAIT_S
    rows = database_probe.request_log_rows(dsn, request_ids)
    while any(not found for found in rows.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
        rows = database_probe.request_log_rows(dsn, request_ids)
    return rows


def request_log_problems(rows: Mapping[str, list[dict[str, Any]]]) -> list[str]:
    """Each request id has exactly one row."""
    return [f"request {rid}: expected 1 request-log row, found {len(found)}" for rid, found in rows.items()
            if len(found) != 1]


def point_payload(session: RunSession, document_id: str) -> dict[str, Any] | None:
    """The document's point in the collection of the profile."""
    vector = session.profile.vector
    qdrant = vector_probe.client(vector.url, session.profile.secret("qdrant_api_key"))
    try:
        return vector_probe.point_payload(qdrant, vector.collection, document_id)
    finally:
        qdrant.close()


def payload_problems(payload: dict[str, Any] | None, owner: str, run_id: str, metadata: Mapping[str, str]) -> list[str]:
    """The point exists and carries the owner, the run id and the metadata it was stored with."""
    if payload is None:
        return ["expected a point for the document in the collection, there is none"]
    problems = []
    if payload.get("owner") != owner:
        problems.append(f"expected owner {owner!r}, the point says {payload.get('owner')!r}")
    stored = payload.get("metadata") or {}
    for key, value in {**metadata, "run_id": run_id}.items():
        if stored.get(key) != value:
            problems.append(f"expected metadata {key}={value!r}, the point says {stored.get(key)!r}")
    return problems
