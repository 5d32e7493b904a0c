"""The Qdrant stand-in, driven the way the gateway and the suite drive it: through QdrantClient(url=...).

Raw httpx only where the client cannot express the check (the legacy search, /metrics, headers).
"""
from __future__ import annotations

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
from citadel_stack.vector_store.auth import refusal
from citadel_stack.vector_store.degrade import degrade
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


def _start(tmp_path_factory: pytest.TempPathFactory, name: str, faults: list[str]) -> Iterator[Store]:
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
    """A stand-in with every search fault on."""
    yield from _start(tmp_path_factory, "vector-store-faulty",
                      ["degrade_ann:0.5", "ignore_filter", f"slow_search:{SLOW_SEARCH_MS}"])


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
def test_degrade_ann_changes_non_exact_results_only(store, faulty_store):
    _fill(store.client, "recall")
    _fill(faulty_store.client, "recall")
    query = _vector(23)
    truth = _ids(store.client.query_points("recall", query=query, limit=10, search_params=EXACT))
    exact = _ids(faulty_store.client.query_points("recall", query=query, limit=10, search_params=EXACT))
    approximate = _ids(faulty_store.client.query_points("recall", query=query, limit=10, search_params=APPROXIMATE))
    again = _ids(faulty_store.client.query_points("recall", query=query, limit=10))
    assert exact == truth
    assert len(approximate) == 10 and len(set(approximate) & set(truth)) == 5, (truth, approximate)
    assert again == approximate, "the degradation must be deterministic per query"


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
    for known in ("degrade_ann", "ignore_filter", "slow_search"):
        assert known in done.stderr


# -- the parts, in-process --------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["degrade_ann", "degrade_ann:0", "degrade_ann:1.5", "slow_search:soon",
                                  "ignore_filter:yes"])
def test_malformed_fault_arguments_are_refused(spec):
    with pytest.raises(ValueError, match=spec.split(":")[0]):
        FaultSet.parse([spec])


def test_fault_arguments_are_parsed():
    faults = FaultSet.parse(["degrade_ann:0.25", "slow_search:40", "ignore_filter"])
    assert faults.degrade_fraction == 0.25 and faults.search_delay_s == 0.04 and "ignore_filter" in faults


def test_degrade_replaces_the_fraction_with_lower_ranked_items_deterministically():
    ranked = list(range(30))
    once = degrade(ranked, top_k=10, fraction=0.5, seed=7)
    assert once == degrade(ranked, top_k=10, fraction=0.5, seed=7)
    assert len(once) == 10 and len(set(once) & set(range(10))) == 5
    assert once == sorted(once)
    assert degrade(ranked[:12], top_k=10, fraction=0.5, seed=7).__len__() == 10  # only 2 to swap in


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
