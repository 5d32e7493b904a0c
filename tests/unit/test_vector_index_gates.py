"""The vector gates that need a real index: recall on an HNSW graph (else not proven) and the payload indexes."""
from __future__ import annotations

from dataclasses import replace

import pytest
from qdrant_client.http import models

from citadel_acceptance.checks.vector import probe
from citadel_acceptance.checks.vector import verdicts as vector_gates
from citadel_acceptance.checks.vector.probe import CollectionFacts, IndexFacts, IndexPreparation, RecallResult
from citadel_acceptance.config.profile import VectorSettings
from citadel_acceptance.config.thresholds import Thresholds

TARGETS = Thresholds.from_tables("unit", {"vector.recall_at_10": {"compare": ">=", "unit": "ratio", "value": 0.95}}, {})
INDEXED = IndexFacts(status="green", points=112, indexed_vectors=112, segments=2, vector_size=576, m=16,
                     ef_construct=100, full_scan_threshold_kb=112, indexing_threshold_kb=112)


def prepared(after: IndexFacts, problem: str = "") -> IndexPreparation:
    before = replace(after, indexed_vectors=0, full_scan_threshold_kb=10000, indexing_threshold_kb=10000)
    return IndexPreparation(before, after, {"indexing_threshold_kb": (10000, 112)}, 0.4, problem)


def recall(value: float, queries: int = 20) -> RecallResult:
    return RecallResult(k=10, queries=queries, per_query=[value] * queries)


def gate():
    return TARGETS.resolve("vector.recall_at_10", spec=0.95)


def test_recall_on_an_hnsw_index_is_judged_with_the_index_settings_in_the_evidence():
    verdict = vector_gates.recall_verdict(gate(), recall(0.99), prepared(INDEXED))
    assert verdict.passed
    assert "HNSW m=16, ef_construct=100" in verdict.explanation and "indexed_vectors_count 112" in verdict.explanation
    assert verdict.details["index"]["after"]["indexed_vectors_count"] == 112
    assert verdict.details["index"]["lowered"] == {"indexing_threshold_kb": {"was": 10000, "set_to": 112}}
    weak = vector_gates.recall_verdict(gate(), recall(0.4), prepared(replace(INDEXED, m=1, ef_construct=5)))
    assert not weak.passed and "recall@10: expected >= 0.95 ratio, measured 0.4" in weak.explanation
    assert "m=1, ef_construct=5" in weak.explanation


def test_recall_without_an_index_is_not_proven_even_when_perfect():
    verdict = vector_gates.recall_verdict(gate(), recall(1.0), prepared(replace(INDEXED, indexed_vectors=0)))
    assert not verdict.passed
    assert verdict.explanation.startswith("recall@10 not proven: the collection has no HNSW index")
    assert "indexed_vectors_count 0 of 112 points" in verdict.explanation


def test_recall_on_a_collection_below_the_full_scan_threshold_is_not_proven():
    verdict = vector_gates.recall_verdict(gate(), recall(1.0), prepared(replace(INDEXED, full_scan_threshold_kb=10000)))
    assert not verdict.passed and "below its HNSW full_scan_threshold (10000 KB)" in verdict.explanation


def test_recall_when_indexing_did_not_finish_names_the_reason():
    no_patch = prepared(replace(INDEXED, indexed_vectors=0), problem="lowering the index thresholds failed (405)")
    assert "no HNSW index (indexed_vectors_count 0 of 112 points): lowering the index thresholds failed" in \
        vector_gates.recall_verdict(gate(), recall(1.0), no_patch).explanation
    late = prepared(INDEXED, problem="the collection was not indexed within 120 s: status yellow")
    assert "not proven: the collection was not indexed within 120 s" in \
        vector_gates.recall_verdict(gate(), recall(1.0), late).explanation


def test_the_payload_index_check_names_each_unindexed_filter_field():
    expected = VectorSettings("http://q", "docs", 576, "Cosine", filter_fields=("owner", "metadata.department"))
    facts = CollectionFacts("docs", True, "green", 576, "Cosine", 10, {"owner": "keyword", "run_id": "keyword"})
    verdict = vector_gates.payload_index_verdict(facts, expected)
    assert not verdict.passed
    assert "field 'metadata.department' has no payload index (indexed: owner, run_id)" in verdict.explanation
    assert "field 'owner'" not in verdict.explanation
    assert vector_gates.payload_index_verdict(facts, VectorSettings("http://q", "docs", 576)).passed
    assert not vector_gates.payload_index_verdict(CollectionFacts("docs", False), expected).passed


class FakeQdrant:
    """Answers get_collection from a list of infos (the last one repeats) and records update_collection."""

    def __init__(self, *infos: models.CollectionInfo, refuse_patch: bool = False) -> None:
        self.infos = list(infos)
        self.updates: list[dict] = []
        self.refuse_patch = refuse_patch

    def get_collection(self, name: str) -> models.CollectionInfo:
        return self.infos.pop(0) if len(self.infos) > 1 else self.infos[0]

    def update_collection(self, name: str, **changes) -> bool:
        if self.refuse_patch:
            raise RuntimeError("405 Method Not Allowed")
        self.updates.append({k: v for k, v in changes.items() if v is not None})
        return True

    def collection_exists(self, name: str) -> bool:
        return True


def info(status: str, indexed: int, points: int = 112, threshold: int = 10000, full_scan: int = 10000):
    return models.CollectionInfo(
        status=status, optimizer_status=models.OptimizersStatusOneOf.OK, indexed_vectors_count=indexed,
        points_count=points, segments_count=1, payload_schema={},
        config=models.CollectionConfig(
            params=models.CollectionParams(vectors=models.VectorParams(size=576, distance="Cosine")),
            hnsw_config=models.HnswConfig(m=16, ef_construct=100, full_scan_threshold=full_scan),
            optimizer_config=models.OptimizersConfig(default_segment_number=0, flush_interval_sec=5,
                                                     indexing_threshold=threshold)))


def test_preparing_the_index_lowers_both_thresholds_to_half_the_sample_and_waits_for_the_optimizer():
    qdrant = FakeQdrant(info("green", 0), info("yellow", 0, threshold=112, full_scan=112),
                        info("green", 112, threshold=112, full_scan=112))
    done = probe.prepare_index(qdrant, "docs", wait_s=10, sample_points=100)
    assert done.lowered == {"indexing_threshold_kb": (10000, 112), "full_scan_threshold_kb": (10000, 112)}
    assert qdrant.updates[0]["optimizers_config"].indexing_threshold == 112
    assert qdrant.updates[0]["hnsw_config"].full_scan_threshold == 112
    assert done.after.indexed_vectors == 112 and not done.problem
    probe.restore_index_settings(qdrant, "docs", done)
    assert qdrant.updates[1]["optimizers_config"].indexing_threshold == 10000
    assert qdrant.updates[1]["hnsw_config"].full_scan_threshold == 10000


def test_an_index_already_in_order_is_left_alone():
    qdrant = FakeQdrant(info("green", 112, threshold=50, full_scan=50))
    done = probe.prepare_index(qdrant, "docs", wait_s=10, sample_points=100)
    assert done.lowered == {} and qdrant.updates == [] and not done.problem


def test_a_store_that_refuses_the_change_is_measured_as_it_is_and_says_why():
    done = probe.prepare_index(FakeQdrant(info("green", 0), refuse_patch=True), "docs", wait_s=10, sample_points=100)
    assert done.lowered == {} and done.problem.startswith("lowering the index thresholds failed (RuntimeError")


def test_a_collection_that_stays_yellow_is_waited_for_a_bounded_time(monkeypatch):
    monkeypatch.setattr(probe.time, "sleep", lambda s: None)
    done = probe.prepare_index(FakeQdrant(info("green", 0), info("yellow", 0)), "docs", wait_s=0.05, sample_points=100)
    assert done.problem.startswith("the collection was not indexed within 0.05 s: status yellow")


@pytest.mark.parametrize("points, expected_kb", [(100, 112), (1, 1)])
def test_the_thresholds_follow_the_sample_size(points, expected_kb):
    qdrant = FakeQdrant(info("green", 0), info("yellow", 0), info("green", 112))
    assert probe.prepare_index(qdrant, "docs", 10, points).lowered["indexing_threshold_kb"] == (10000, expected_kb)


def test_a_stores_error_answer_reads_as_words_never_raw_bytes():
    qdrant_shape = b'{"status":{"error":"Not found: snapshots are not supported here"},"time":0.0}'
    assert probe.answer_text(qdrant_shape) == "Not found: snapshots are not supported here"
    assert probe.answer_text(b'{"detail": "Not Found"}') == "Not Found"
    assert probe.answer_text(b"<html>\n  502 Bad Gateway\n</html>") == "<html> 502 Bad Gateway </html>"
    assert probe.answer_text(b"") == "an empty answer"
    assert probe.answer_text(b"x" * 500, limit=20) == "x" * 17 + "..."


def test_a_snapshot_refused_for_a_missing_collection_or_a_key_fails_and_only_an_unsupported_store_skips():
    from types import SimpleNamespace

    import httpx
    from qdrant_client.http.exceptions import UnexpectedResponse

    def store(status: int, exists: bool):
        def refuse(name, wait=True):
            raise UnexpectedResponse(status, "x", b'{"status":{"error":"nope"}}', httpx.Headers())
        return SimpleNamespace(create_snapshot=refuse, collection_exists=lambda name: exists)

    assert probe.snapshot_round_trip(store(501, True), "documents", "http://q", None) == (
        False, "the vector store does not support snapshots (HTTP 501: nope)")
    assert probe.snapshot_round_trip(store(404, True), "documents", "http://q", None)[0] is False
    missing = probe.snapshot_round_trip(store(404, False), "documents", "http://q", None)
    assert missing == (True, "the collection 'documents' to snapshot does not exist (HTTP 404: nope)")
    refused = probe.snapshot_round_trip(store(403, True), "documents", "http://q", None)
    assert refused[0] is True and "refused to snapshot 'documents' with the suite's key (HTTP 403: nope)" in refused[1]
    none = SimpleNamespace(create_snapshot=lambda name, wait=True: None)
    assert probe.snapshot_round_trip(none, "documents", "http://q", None) == (True, "creating a snapshot of 'documents' answered no snapshot")


def test_an_embedding_of_another_size_or_scale_fails():
    from types import SimpleNamespace

    def answer(vector, status=200):
        return SimpleNamespace(status=status, body={"data": [{"embedding": vector}]})

    assert vector_gates.embedding_shape_problems([answer([0.6, 0.8])], 2, "Cosine") == []
    assert vector_gates.embedding_shape_problems([answer([0.6])], 2, "Cosine") == [
        "text 0: the embedding has 1 dimensions, the collection expects 2"]
    assert "not 1, which the dot-product distance assumes" in vector_gates.embedding_shape_problems([answer([3.0, 4.0])], 2, "Dot")[0]
    assert vector_gates.embedding_shape_problems([answer([3.0, 4.0])], 2, "Cosine") == []
    assert vector_gates.embedding_shape_problems([], 2, "Cosine") == ["no data: no text was embedded"]
    assert "expected HTTP 200 with embeddings, got 500" in vector_gates.embedding_shape_problems([answer(None, 500)], 2, "Cosine")[0]
    assert vector_gates.embedding_dimensions([answer([0.6, 0.8]), answer([1.0])]) == [1, 2]
