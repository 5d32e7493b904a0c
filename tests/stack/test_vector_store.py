"""The Qdrant stand-in, driven the way the gateway and the suite drive it: through QdrantClient(url=...).

Raw httpx only where the client cannot express the check (the legacy search, /metrics, headers). Behind
it is Qdrant's engine (qdrant-edge): HNSW indexes, payload indexes, indexed counts and status are real.
"""
from __future__ import annotations

import random
import subprocess
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from qdrant_client import QdrantClient
from qdrant_client.http import models
from qdrant_client.http.exceptions import UnexpectedResponse

from citadel_stack.ports import free_port
from citadel_stack.process import spawn, wait_http_ok
from citadel_stack.vector_store import settings
from citadel_stack.vector_store.auth import refusal
from citadel_stack.vector_store.engine import VectorEngine
from citadel_stack.vector_store.errors import INVALID_API_KEY, MISSING_API_KEY, SNAPSHOTS_UNSUPPORTED
from citadel_stack.vector_store.faults import FaultSet

API_KEY = "test-key-0123456789"
SLOW_SEARCH_MS = 150
DIM = 4


@dataclass(frozen=True)
class Store:
    """A running stand-in: its URL and a client holding the right key."""

    url: str
    client: QdrantClient
    log_path: Path

    def client_with(self, api_key: str | None) -> QdrantClient:
        """Another client for the same store, with another key (or none)."""
        return _client(self.url, api_key)


def _client(url: str, api_key: str | None) -> QdrantClient:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Api key is used with an insecure connection"
        return QdrantClient(url=url, api_key=api_key, check_compatibility=False, timeout=10)


def _start(tmp_path_factory: pytest.TempPathFactory, name: str, faults: list[str],
           data_dir: Path | None = None) -> Iterator[Store]:
    home = tmp_path_factory.mktemp(name)
    key_file = home / "api-key"
    key_file.write_text(API_KEY)
    key_file.chmod(0o600)
    log_path = home / "vector-store.log"
    port = free_port()
    argv = [sys.executable, "-m", "citadel_stack.vector_store", "--host", "127.0.0.1", "--port", str(port),
            "--api-key-file", str(key_file)]
    for fault in faults:
        argv += ["--fault", fault]
    if data_dir is not None:
        argv += ["--data-dir", str(data_dir)]
    process = spawn(argv, log_path)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http_ok(f"{url}/readyz", timeout_s=30, process=process, log_path=log_path)
        store = Store(url, _client(url, API_KEY), log_path)
        yield store
        store.client.close()
    finally:
        process.stop()


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Iterator[Store]:
    """A stand-in without faults."""
    yield from _start(tmp_path_factory, "vector-store", [])


@pytest.fixture(scope="module")
def faulty_store(tmp_path_factory) -> Iterator[Store]:
    """A stand-in with every fault of the vector store on."""
    yield from _start(tmp_path_factory, "vector-store-faulty",
                      ["degrade_ann:0.95", "ignore_filter", f"slow_search:{SLOW_SEARCH_MS}", "missing_payload_index:team"])


def _vector(i: int) -> list[float]:
    """Deterministic, well-spread vectors (no two points tie for a query)."""
    return [1.0 + (i % 7) * 0.37, 0.5 + (i % 5) * 0.61, (i % 11) * 0.23 - 1.0, 0.2 + (i % 3) * 0.9 + i * 0.013]


def _fill(client: QdrantClient, name: str, points: int = 60) -> None:
    client.create_collection(name, vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE),
                             hnsw_config=models.HnswConfigDiff(m=32, ef_construct=256))
    client.upsert(name, wait=True, points=[
        models.PointStruct(id=i, vector=_vector(i), payload={"team": "red" if i % 3 == 0 else "blue", "n": i})
        for i in range(1, points + 1)
    ])


RED = models.Filter(must=[models.FieldCondition(key="team", match=models.MatchValue(value="red"))])
EXACT = models.SearchParams(exact=True)
APPROXIMATE = models.SearchParams(exact=False)


def _ids(response: models.QueryResponse) -> list[int | str]:
    return [point.id for point in response.points]


WIDE = 64  # vectors of the index tests: 300 of them are 75 KB, above the 10 KB thresholds these tests set


def _spread_vectors(count: int, seed: int) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.gauss(0, 1) for _ in range(WIDE)] for _ in range(count)]


def _wait_green(client: QdrantClient, name: str, timeout_s: float = 30) -> models.CollectionInfo:
    deadline = time.monotonic() + timeout_s
    info = client.get_collection(name)
    while info.status != models.CollectionStatus.GREEN and time.monotonic() < deadline:
        time.sleep(0.1)
        info = client.get_collection(name)
    assert info.status == models.CollectionStatus.GREEN, f"{name} still {info.status} after {timeout_s} s"
    return info


def _indexed(client: QdrantClient, name: str, points: int = 300) -> int:
    """A collection whose vectors pass its indexing threshold and are searched through the HNSW graph."""
    client.create_collection(name, vectors_config=models.VectorParams(size=WIDE, distance=models.Distance.COSINE),
                             optimizers_config=models.OptimizersConfigDiff(indexing_threshold=10),
                             hnsw_config=models.HnswConfigDiff(full_scan_threshold=10))
    vectors = _spread_vectors(points, seed=5)
    for start in range(0, points, 100):
        client.upsert(name, wait=True, points=[models.PointStruct(id=i + 1, vector=vectors[i])
                                                for i in range(start, min(start + 100, points))])
    return int(_wait_green(client, name).indexed_vectors_count or 0)


def _recall(client: QdrantClient, name: str, queries: list[list[float]]) -> float:
    found = 0
    for query in queries:
        approximate = set(_ids(client.query_points(name, query=query, limit=10, search_params=APPROXIMATE)))
        found += len(approximate & set(_ids(client.query_points(name, query=query, limit=10, search_params=EXACT))))
    return found / (10 * len(queries))


# -- the service, without faults ---------------------------------------------------------------------


@pytest.mark.slow
def test_collection_is_created_and_described_like_qdrant(store):
    _fill(store.client, "described")
    store.client.create_payload_index("described", "team", field_schema=models.PayloadSchemaType.KEYWORD)
    assert store.client.collection_exists("described")
    assert "described" in [c.name for c in store.client.get_collections().collections]
    info = store.client.get_collection("described")
    assert info.status == models.CollectionStatus.GREEN
    assert info.points_count == 60
    assert info.config.params.vectors.size == DIM
    assert info.config.params.vectors.distance == models.Distance.COSINE
    assert info.config.hnsw_config.m == 32 and info.config.hnsw_config.ef_construct == 256
    assert info.payload_schema["team"].data_type == models.PayloadSchemaType.KEYWORD
    assert info.payload_schema["team"].points == 60
    assert store.client.info().version.endswith("-citadel-standin")


@pytest.mark.slow
def test_query_returns_nearest_points_and_honours_the_filter(store):
    _fill(store.client, "filtered")
    query = _vector(9)
    unfiltered = store.client.query_points("filtered", query=query, limit=5, with_payload=True)
    assert unfiltered.points[0].id == 9 and unfiltered.points[0].score == pytest.approx(1.0, abs=1e-5)
    filtered = store.client.query_points("filtered", query=query, limit=5, query_filter=RED, with_payload=True)
    assert len(filtered.points) == 5
    assert {p.payload["team"] for p in filtered.points} == {"red"}, filtered.points
    scores = [p.score for p in filtered.points]
    assert scores == sorted(scores, reverse=True)
    above = store.client.query_points("filtered", query=query, limit=50, score_threshold=0.99)
    assert above.points and all(p.score >= 0.99 for p in above.points)


@pytest.mark.slow
def test_exact_and_non_exact_queries_agree_without_faults(store):
    _fill(store.client, "agree")
    for i in (3, 17, 42):
        exact = store.client.query_points("agree", query=_vector(i), limit=10, search_params=EXACT)
        approximate = store.client.query_points("agree", query=_vector(i), limit=10, search_params=APPROXIMATE)
        assert _ids(exact) == _ids(approximate)


@pytest.mark.slow
def test_vectors_past_the_indexing_threshold_are_indexed_while_the_collection_is_yellow(store):
    store.client.create_collection("indexing", vectors_config=models.VectorParams(size=WIDE, distance="Cosine"))
    vectors = _spread_vectors(200, seed=3)
    store.client.upsert("indexing", wait=True, points=[models.PointStruct(id=i, vector=v) for i, v in enumerate(vectors)])
    info = store.client.get_collection("indexing")
    assert (info.status, info.indexed_vectors_count) == (models.CollectionStatus.GREEN, 0), "50 KB < Qdrant's 10 MB"
    assert info.config.optimizer_config.indexing_threshold == 10000
    store.client.update_collection("indexing", optimizers_config=models.OptimizersConfigDiff(indexing_threshold=20),
                                   hnsw_config=models.HnswConfigDiff(m=8, full_scan_threshold=20))
    assert store.client.get_collection("indexing").status == models.CollectionStatus.YELLOW
    info = _wait_green(store.client, "indexing")
    assert info.indexed_vectors_count == 200 and info.points_count == 200
    assert (info.config.hnsw_config.m, info.config.hnsw_config.full_scan_threshold) == (8, 20)
    assert info.config.optimizer_config.indexing_threshold == 20


@pytest.mark.slow
def test_payload_indexes_are_built_reported_and_removed(store):
    _fill(store.client, "payload")
    store.client.create_payload_index("payload", "team", field_schema=models.KeywordIndexParams(
        type=models.KeywordIndexType.KEYWORD, is_tenant=True))
    store.client.create_payload_index("payload", "n", field_schema=models.PayloadSchemaType.INTEGER)
    schema = store.client.get_collection("payload").payload_schema
    assert schema["team"].data_type == models.PayloadSchemaType.KEYWORD and schema["team"].params.is_tenant is True
    assert schema["n"].points == 60
    assert store.client.count("payload", count_filter=RED).count == 20
    store.client.delete_payload_index("payload", "team")
    assert set(store.client.get_collection("payload").payload_schema) == {"n"}
    assert store.client.count("payload", count_filter=RED).count == 20, "a filter still works without its index"


@pytest.mark.slow
def test_a_store_on_a_data_directory_finds_its_collections_again(tmp_path_factory, tmp_path):
    first = _start(tmp_path_factory, "kept-1", [], data_dir=tmp_path / "data")
    kept = next(first)
    _fill(kept.client, "kept", points=12)
    kept.client.update_collection("kept", optimizers_config=models.OptimizersConfigDiff(indexing_threshold=1234))
    first.close()
    second = _start(tmp_path_factory, "kept-2", [], data_dir=tmp_path / "data")
    again = next(second)
    try:
        info = again.client.get_collection("kept")
        assert info.points_count == 12 and info.config.optimizer_config.indexing_threshold == 1234
        assert again.client.retrieve("kept", ids=[5])[0].payload == {"team": "blue", "n": 5}
    finally:
        second.close()


@pytest.mark.slow
def test_retrieve_scroll_count_and_delete(store):
    _fill(store.client, "crud", points=30)
    [record] = store.client.retrieve("crud", ids=[7], with_vectors=True)
    assert record.payload == {"team": "blue", "n": 7} and len(record.vector) == DIM
    page, next_offset = store.client.scroll("crud", limit=10)
    assert [r.id for r in page] == list(range(1, 11)) and next_offset == 11
    assert store.client.count("crud").count == 30
    assert store.client.count("crud", count_filter=RED).count == 10
    store.client.delete("crud", points_selector=models.PointIdsList(points=[1, 2]), wait=True)
    assert store.client.count("crud").count == 28
    store.client.delete("crud", points_selector=models.FilterSelector(filter=RED), wait=True)
    assert store.client.count("crud").count == 18
    assert store.client.count("crud", count_filter=RED).count == 0
    assert store.client.delete_collection("crud") is True
    assert not store.client.collection_exists("crud")


@pytest.mark.slow
def test_legacy_search_endpoint_answers_like_the_query_api(store):
    _fill(store.client, "legacy")
    expected = _ids(store.client.query_points("legacy", query=_vector(5), limit=4))
    response = httpx.post(f"{store.url}/collections/legacy/points/search", headers={"api-key": API_KEY},
                          json={"vector": _vector(5), "limit": 4, "with_payload": True}, timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok" and isinstance(body["time"], float)
    assert [p["id"] for p in body["result"]] == expected


@pytest.mark.slow
def test_missing_collection_is_404_with_qdrants_wording(store):
    with pytest.raises(UnexpectedResponse) as raised:
        store.client.get_collection("absent")
    assert raised.value.status_code == 404
    assert "Collection `absent` doesn't exist!" in raised.value.structured()["status"]["error"]


@pytest.mark.slow
def test_wrong_vector_size_is_400(store):
    _fill(store.client, "sized", points=3)
    with pytest.raises(UnexpectedResponse) as raised:
        store.client.upsert("sized", points=[models.PointStruct(id=99, vector=[0.1, 0.2, 0.3])])
    assert raised.value.status_code == 400
    assert "expected dim: 4, got 3" in raised.value.structured()["status"]["error"]


@pytest.mark.slow
@pytest.mark.parametrize("api_key, message", [("not-the-key", INVALID_API_KEY), (None, MISSING_API_KEY)])
def test_wrong_or_missing_api_key_is_refused_with_401(store, api_key, message):
    client = store.client_with(api_key)
    with pytest.raises(UnexpectedResponse) as raised:
        client.get_collections()
    assert raised.value.status_code == 401, f"expected 401 from GET /collections with key {api_key!r}"
    assert raised.value.structured() == {"status": {"error": message}, "time": pytest.approx(0, abs=1)}
    client.close()


@pytest.mark.slow
def test_bearer_token_is_accepted_and_health_is_open(store):
    listed = httpx.get(f"{store.url}/collections", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10)
    assert listed.status_code == 200, listed.text
    for path in ("/healthz", "/livez", "/readyz", "/"):
        assert httpx.get(store.url + path, timeout=10).status_code == 200, path
    assert httpx.get(f"{store.url}/metrics", timeout=10).status_code == 401


@pytest.mark.slow
def test_snapshots_answer_501_not_supported(store):
    _fill(store.client, "snapshotted", points=3)
    for attempt in (lambda: store.client.create_snapshot("snapshotted"),
                    lambda: store.client.list_snapshots("snapshotted")):
        with pytest.raises(UnexpectedResponse) as raised:
            attempt()
        assert raised.value.status_code == 501
        assert raised.value.structured()["status"]["error"] == SNAPSHOTS_UNSUPPORTED


@pytest.mark.slow
def test_twenty_concurrent_queries_all_succeed(store):
    _fill(store.client, "concurrent")
    expected = {i: _ids(store.client.query_points("concurrent", query=_vector(i), limit=5)) for i in range(1, 21)}

    def ask(i: int) -> list[int | str]:
        return _ids(store.client.query_points("concurrent", query=_vector(i), limit=5, query_filter=None))

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = dict(zip(range(1, 21), pool.map(ask, range(1, 21))))
    assert answers == expected


@pytest.mark.slow
def test_metrics_parse_and_count_requests_and_points(store):
    _fill(store.client, "measured", points=12)
    store.client.query_points("measured", query=_vector(1), limit=3)
    # a refused request of its own: which other tests of the module share this worker's store depends on the order
    assert httpx.get(f"{store.url}/collections", timeout=10).status_code == 401
    text = httpx.get(f"{store.url}/metrics", headers={"api-key": API_KEY}, timeout=10).text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert families["collections_total"].samples[0].value >= 1
    points = {s.labels["collection"]: s.value for s in families["collection_points"].samples}
    assert points["measured"] == 12
    queries = [s for s in families["rest_responses"].samples
               if s.name == "rest_responses_total" and s.labels["endpoint"] == "/collections/{collection}/points/query"
               and s.labels["status"] == "200"]
    assert queries and queries[0].value >= 1
    assert any(s.labels["status"] == "401" for s in families["rest_responses"].samples)


@pytest.mark.slow
def test_request_log_is_json_lines_without_the_key(store):
    store.client.get_collections()
    text = store.log_path.read_text()
    assert API_KEY not in text
    assert '"path": "/collections"' in text and '"duration_ms"' in text


# -- the service, with faults ---------------------------------------------------------------------------


@pytest.mark.slow
def test_degrade_ann_builds_a_weak_graph_that_loses_recall_while_exact_search_stays_exact(store, faulty_store):
    truth = _indexed(store.client, "recall")
    _indexed(faulty_store.client, "recall")
    healthy = store.client.get_collection("recall").config.hnsw_config
    weak = faulty_store.client.get_collection("recall").config.hnsw_config
    assert (healthy.m, healthy.ef_construct) == (16, 100)
    assert (weak.m, weak.ef_construct) == (1, 5), "the collection reports the graph the engine really built"
    queries = _spread_vectors(20, seed=11)
    assert _recall(store.client, "recall", queries) >= 0.95
    assert _recall(faulty_store.client, "recall", queries) < 0.9
    exact = [_ids(faulty_store.client.query_points("recall", query=q, limit=10, search_params=EXACT)) for q in queries]
    assert exact == [_ids(store.client.query_points("recall", query=q, limit=10, search_params=EXACT)) for q in queries]
    assert truth == 300


@pytest.mark.slow
def test_missing_payload_index_acknowledges_the_request_and_builds_nothing(faulty_store):
    _fill(faulty_store.client, "unindexed", points=5)
    result = faulty_store.client.create_payload_index("unindexed", "team", field_schema=models.PayloadSchemaType.KEYWORD)
    assert result.status == models.UpdateStatus.COMPLETED
    faulty_store.client.create_payload_index("unindexed", "n", field_schema=models.PayloadSchemaType.INTEGER)
    assert set(faulty_store.client.get_collection("unindexed").payload_schema) == {"n"}


@pytest.mark.slow
def test_ignore_filter_leaks_non_matching_payloads(faulty_store):
    _fill(faulty_store.client, "leaky")
    leaked = faulty_store.client.query_points("leaky", query=_vector(10), limit=10, query_filter=RED,
                                              search_params=EXACT, with_payload=True)
    assert {p.payload["team"] for p in leaked.points} == {"red", "blue"}
    assert faulty_store.client.count("leaky", count_filter=RED).count == 20  # only searches ignore it


@pytest.mark.slow
def test_slow_search_delays_searches(faulty_store):
    _fill(faulty_store.client, "slow", points=5)
    started = time.perf_counter()
    faulty_store.client.query_points("slow", query=_vector(1), limit=2, search_params=EXACT)
    assert time.perf_counter() - started >= SLOW_SEARCH_MS / 1000


@pytest.mark.slow
def test_unknown_fault_exits_listing_the_known_ones():
    done = subprocess.run([sys.executable, "-m", "citadel_stack.vector_store", "--port", str(free_port()),
                           "--fault", "drop_points"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "unknown fault 'drop_points'" in done.stderr
    for known in ("degrade_ann", "ignore_filter", "slow_search", "missing_payload_index"):
        assert known in done.stderr


# -- the parts, in-process --------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["degrade_ann", "degrade_ann:0", "degrade_ann:1.5", "slow_search:soon",
                                  "ignore_filter:yes", "missing_payload_index", "missing_payload_index:a b"])
def test_malformed_fault_arguments_are_refused(spec):
    with pytest.raises(ValueError, match=spec.split(":")[0]):
        FaultSet.parse([spec])


def test_fault_arguments_are_parsed():
    faults = FaultSet.parse(["degrade_ann:0.25", "slow_search:40", "ignore_filter", "missing_payload_index:owner",
                             "missing_payload_index:run_id"])
    assert faults.degrade_fraction == 0.25 and faults.search_delay_s == 0.04 and "ignore_filter" in faults
    assert faults.missing_payload_indexes == {"owner", "run_id"}


def test_degrade_cuts_m_and_ef_construct_of_every_graph_by_the_fraction():
    config = settings.from_request(models.CreateCollection(
        vectors={"a": models.VectorParams(size=4, distance=models.Distance.DOT,
                                          hnsw_config=models.HnswConfigDiff(m=32))},
        hnsw_config=models.HnswConfigDiff(ef_construct=200)))
    weak = settings.degraded(config, 0.9)
    assert (weak.hnsw_config.m, weak.hnsw_config.ef_construct) == (2, 20)
    assert weak.params.vectors["a"].hnsw_config.m == 3
    assert settings.degraded(config, 0.99).hnsw_config.ef_construct == settings.MIN_EF_CONSTRUCT
    assert settings.degraded(config, 1.0).hnsw_config.m == settings.MIN_DEGRADED_M
    assert settings.degraded(config, 0.0) == config


def test_settings_follow_qdrants_defaults_and_a_patch_changes_only_what_it_names():
    config = settings.from_request(models.CreateCollection(vectors=models.VectorParams(size=4, distance="Cosine"),
                                                           optimizers_config=models.OptimizersConfigDiff(
                                                               indexing_threshold=20)))
    assert config.hnsw_config == settings.DEFAULT_HNSW and config.params.on_disk_payload is True
    assert config.optimizer_config.indexing_threshold == 20
    patched = settings.updated(config, models.UpdateCollection(hnsw_config=models.HnswConfigDiff(full_scan_threshold=5),
                                                               vectors={"": models.VectorParamsDiff(on_disk=True)}))
    assert patched.hnsw_config.full_scan_threshold == 5 and patched.hnsw_config.m == 16
    assert patched.params.vectors.on_disk is True and patched.optimizer_config.indexing_threshold == 20


def test_the_engine_keeps_collections_in_its_data_directory(tmp_path):
    engine = VectorEngine(tmp_path)
    engine.create_collection("kept", models.CreateCollection(vectors=models.VectorParams(size=DIM, distance="Cosine")))
    engine.upsert("kept", models.PointsList(points=[models.PointStruct(id=1, vector=_vector(1), payload={"a": 1})]))
    engine.create_payload_index("kept", models.CreateFieldIndex(field_name="a", field_schema="integer"))
    engine.close()
    again = VectorEngine(tmp_path, FaultSet.parse(["missing_payload_index:a"]))
    try:
        info = again.collection_info("kept")
        assert info.points_count == 1 and info.payload_schema == {}, "the fault drops a stored index at start"
    finally:
        again.close()
    assert (tmp_path / "collections" / "kept").is_dir(), "a data directory that was given is kept"


def test_a_temporary_data_directory_is_removed_when_the_engine_closes():
    engine = VectorEngine()
    directory = engine.data_dir
    engine.create_collection("gone", models.CreateCollection(vectors=models.VectorParams(size=DIM, distance="Cosine")))
    engine.close()
    assert not directory.exists()


def test_unsupported_queries_are_refused_not_answered_loosely():
    engine = VectorEngine()
    try:
        engine.create_collection("q", models.CreateCollection(vectors=models.VectorParams(size=DIM, distance="Cosine")))
        with pytest.raises(Exception, match="not supported by the Citadel Qdrant stand-in"):
            engine.query("q", models.QueryRequest(query=models.FusionQuery(fusion=models.Fusion.RRF)))
        with pytest.raises(Exception, match="not a valid collection name"):
            engine.create_collection("../x", models.CreateCollection(vectors=models.VectorParams(size=DIM, distance="Cosine")))
    finally:
        engine.close()


@pytest.mark.parametrize("path, headers, expected", [
    ("/collections", {}, MISSING_API_KEY),
    ("/collections", {"api-key": "nope"}, INVALID_API_KEY),
    ("/collections", {"authorization": "Bearer nope"}, INVALID_API_KEY),
    ("/collections", {"authorization": "Basic abc"}, MISSING_API_KEY),
    ("/collections", {"api-key": "k"}, None),
    ("/collections", {"authorization": "Bearer k"}, None),
    ("/metrics", {}, MISSING_API_KEY),
    ("/healthz", {}, None),
    ("/readyz", {}, None),
    ("/", {}, None),
])
def test_refusal_follows_qdrants_rules(path, headers, expected):
    assert refusal("k", path, headers) == expected
    assert refusal(None, path, headers) is None
