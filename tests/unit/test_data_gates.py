"""Verdict logic of the database, vector and journey gates, on recorded measurements."""
from __future__ import annotations

from citadel_acceptance.checks.vector import corpus

from citadel_acceptance.checks.database import verdicts as database_gates

from citadel_acceptance.checks.api import journey

from citadel_acceptance.checks.monitoring import gateway_metrics as metrics_probe

from citadel_acceptance.checks.vector import verdicts as vector_gates
from citadel_acceptance.checks.database.probe import ConnectionBurst, PlanCheck, SchemaObjects
from citadel_acceptance.target.gateway_client import Exchange
from citadel_acceptance.config.profile import VectorSettings
from citadel_acceptance.config.thresholds import Thresholds
from citadel_acceptance.checks.vector.probe import CollectionFacts

TARGETS = Thresholds.from_tables("t", {
    "database.query_ms": {"compare": "<", "unit": "ms", "value": 50},
    "database.pool_connections": {"compare": ">=", "unit": "connections", "value": 200},
    "vector.concurrent_ops": {"compare": ">=", "unit": "operations", "value": 20},
}, {})


def exchange(status: int, body) -> Exchange:
    return Exchange("POST", "http://gw/v1/retrieval", status, body, {}, "r1", 12.0)


def test_schema_verdict_names_what_is_missing():
    objects = SchemaObjects(frozenset({"api_keys"}), frozenset({"idx_a"}), frozenset())
    verdict = database_gates.schema_verdict(objects, {"tables": ["api_keys", "documents"], "indexes": ["idx_a"],
                                                      "constraints": ["documents_pkey"]})
    assert not verdict.passed
    assert "missing table 'documents'" in verdict.explanation and "missing constraint 'documents_pkey'" in verdict.explanation


def test_plan_verdict_fails_on_a_sequential_scan_of_a_big_table():
    ok = PlanCheck("key_lookup", {}, [], ["Index Scan on api_keys using api_keys_key_sha256_key"])
    bad = PlanCheck("documents_of_owner", {}, ["documents"], [])
    assert database_gates.plans_verdict([ok]).passed
    verdict = database_gates.plans_verdict([ok, bad])
    assert not verdict.passed and "'documents_of_owner' scans documents sequentially" in verdict.explanation


def test_latency_verdict_without_a_stated_confidence_uses_the_nearest_rank_p95_of_all_runs():
    samples = {"a": [1.0] * 19 + [80.0], "b": [2.0] * 20}
    verdict = database_gates.latency_verdict(TARGETS.resolve("database.query_ms"), samples, 0)
    assert verdict.passed and verdict.measured == 2.0 and verdict.details["n"] == 40  # rank 38 of 40
    slow = database_gates.latency_verdict(TARGETS.resolve("database.query_ms"), {"a": [60.0] * 20}, 0)
    assert not slow.passed and "expected < 50 ms, measured 60 ms (n=20)" in slow.explanation


def test_latency_verdict_at_95_percent_confidence_judges_the_bound_of_all_runs():
    samples = {"a": [1.0] * 195 + [80.0] * 5}  # nearest-rank p95 1 ms; at 95 % the bound is the 196th of 200
    verdict = database_gates.latency_verdict(TARGETS.resolve("database.query_ms"), samples, 0.95)
    assert not verdict.passed and verdict.measured == 80.0 and verdict.details["rank"] == 196
    assert "the nearest-rank p95 is 1 ms" in verdict.explanation


def test_burst_and_release_verdicts():
    burst = ConnectionBurst(200, 97, ["OperationalError: too many clients"], 1.2, baseline=3, peak=100, after=5)
    verdict = database_gates.burst_verdict(burst, TARGETS.resolve("database.pool_connections", spec=200))
    assert not verdict.passed and "too many clients" in verdict.explanation
    assert not database_gates.release_verdict(burst).passed
    assert database_gates.release_verdict(ConnectionBurst(200, 200, [], 1.0, 3, 203, 3)).passed


def test_ddl_verdict_passes_only_on_insufficient_privilege():
    assert database_gates.ddl_verdict("InsufficientPrivilege").passed
    assert "succeeded (rolled back)" in database_gates.ddl_verdict(None).explanation
    assert not database_gates.ddl_verdict("UndefinedTable").passed


def test_collection_verdict_checks_size_distance_and_status():
    expected = VectorSettings("http://q", "docs", 576, "Cosine")
    assert vector_gates.collection_verdict(CollectionFacts("docs", True, "green", 576, "Cosine", 10), expected).passed
    verdict = vector_gates.collection_verdict(CollectionFacts("docs", True, "yellow", 384, "Dot", 10), expected)
    assert "expected vector size 576, the collection has 384" in verdict.explanation
    assert "expected distance Cosine" in verdict.explanation and "status green" in verdict.explanation
    assert "does not exist" in vector_gates.collection_verdict(CollectionFacts("docs", False), expected).explanation


def test_filter_verdict_needs_results_all_of_the_department():
    found = exchange(200, {"data": [{"title": "a", "metadata": {"department": "finance"}}]})
    assert vector_gates.filter_verdict(found, "finance").passed
    leak = exchange(200, {"data": [{"title": "b", "metadata": {"department": "legal"}}]})
    assert "has department 'legal'" in vector_gates.filter_verdict(leak, "finance").explanation
    assert not vector_gates.filter_verdict(exchange(200, {"data": []}), "finance").passed
    assert not vector_gates.filter_verdict(exchange(503, {"error": {}}), "finance").passed


def test_concurrency_verdict_counts_successes_against_the_target():
    gate = TARGETS.resolve("vector.concurrent_ops", spec=20)
    assert vector_gates.all_succeeded_verdict(gate, 20, []).passed
    assert "errors: ['Timeout']" in vector_gates.all_succeeded_verdict(gate, 19, ["Timeout"]).explanation


def test_journey_checks():
    cited = exchange(200, {"choices": [{"message": {"content": "30 days"}}], "citations": [{"document_id": "d1"}]})
    assert journey.citation_verdict(cited, "d1", "Refund policy").passed
    assert not journey.citation_verdict(cited, "d2", "Other").passed
    assert journey.request_log_problems({"r1": [{}], "r2": []}) == ["request r2: expected 1 request-log row, found 0"]
    payload = {"owner": "alice", "metadata": {"topic": "journey", "run_id": "run-1"}}
    assert journey.payload_problems(payload, "alice", "run-1", {"topic": "journey"}) == []
    assert journey.payload_problems(None, "alice", "run-1", {})[0].startswith("expected a point")
    assert "expected owner 'bob'" in journey.payload_problems(payload, "bob", "run-1", {})[0]


def test_metrics_delta_sums_matching_series():
    before = metrics_probe.parse('model_requests_total{model_name="hermes",service="s",status="success"} 3\n')
    after = metrics_probe.parse('model_requests_total{model_name="hermes",service="s",status="success"} 4\n'
                                'model_requests_total{model_name="hermes",service="s",status="error"} 1\n'
                                'model_requests_total{model_name="phi3",service="s",status="success"} 9\n')
    assert metrics_probe.delta(before, after, "model_requests_total", model_name="hermes") == 2


def test_corpus_is_seeded_and_spread_over_departments():
    assert corpus.sample_documents(8) == corpus.sample_documents(8)
    assert {m["department"] for _, _, m in corpus.sample_documents(8)} == set(corpus.DEPARTMENTS)
