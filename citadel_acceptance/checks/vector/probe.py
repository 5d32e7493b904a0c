"""The vector store as the suite sees it, through qdrant-client as against any Qdrant."""
from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # qdrant_client takes most of a second to import: only scenarios that use it pay
    from qdrant_client import QdrantClient

TIMEOUT_S = 10


@dataclass(frozen=True)
class CollectionFacts:
    """What Qdrant says about one collection."""

    name: str
    exists: bool
    status: str = ""
    vector_size: int | None = None
    distance: str = ""
    points: int = 0


@dataclass
class RecallResult:
    """Recall@k of the deployed (approximate) search against the store's exact search."""

    k: int
    queries: int
    per_query: list[float] = field(default_factory=list)

    @property
    def recall(self) -> float:
        """Mean recall over the sampled queries (0 without queries)."""
        return sum(self.per_query) / len(self.per_query) if self.per_query else 0.0


def client(url: str, api_key: str | None) -> QdrantClient:
    """A REST client (the same code path the gateway uses)."""
    from qdrant_client import QdrantClient
    return QdrantClient(url=url, api_key=api_key or None, timeout=TIMEOUT_S, https=url.startswith("https"),
                        check_compatibility=False)


def collection_facts(qdrant: QdrantClient, name: str) -> CollectionFacts:
    """Existence, status, vector size, distance and point count."""
    from qdrant_client import models
    if not qdrant.collection_exists(name):
        return CollectionFacts(name=name, exists=False)
    info = qdrant.get_collection(name)
    vectors = info.config.params.vectors
    params = vectors if isinstance(vectors, models.VectorParams) else next(iter(vectors.values()))
    return CollectionFacts(name=name, exists=True, status=str(getattr(info.status, "value", info.status)),
                           vector_size=params.size, distance=str(getattr(params.distance, "value", params.distance)),
                           points=int(info.points_count or 0))


def sample_vectors(qdrant: QdrantClient, name: str, count: int, seed: int = 7) -> list[list[float]]:
    """Stored vectors to use as queries (a seeded sample of the first points scrolled)."""
    points, _ = qdrant.scroll(name, limit=max(count * 5, 50), with_vectors=True, with_payload=False)
    vectors = [p.vector for p in points if isinstance(p.vector, list)]
    random.Random(seed).shuffle(vectors)
    return vectors[:count]


def timed_searches(qdrant: QdrantClient, name: str, queries: list[list[float]], k: int) -> list[float]:
    """Milliseconds of each similarity search (the deployed, non-exact kind)."""
    from qdrant_client import models
    samples = []
    for vector in queries:
        started = time.perf_counter()
        qdrant.query_points(name, query=vector, limit=k, search_params=models.SearchParams(exact=False))
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def concurrent_searches(qdrant: QdrantClient, name: str, queries: list[list[float]], k: int) -> tuple[list[float], list[str]]:
    """All queries at once, one thread each: (milliseconds of those that worked, errors of those that did not)."""
    def one(vector: list[float]) -> float:
        started = time.perf_counter()
        qdrant.query_points(name, query=vector, limit=k)
        return (time.perf_counter() - started) * 1000

    samples, errors = [], []
    with ThreadPoolExecutor(max_workers=len(queries)) as pool:
        for future in [pool.submit(one, q) for q in queries]:
            try:
                samples.append(future.result(timeout=TIMEOUT_S * 2))
            except Exception as exc:  # every failure counts, whatever its kind
                errors.append(f"{type(exc).__name__}: {str(exc)[:160]}")
    return samples, errors


def recall_at_k(qdrant: QdrantClient, name: str, queries: list[list[float]], k: int) -> RecallResult:
    """|ANN top-k ∩ exact top-k| / k per query, exact from the store's own exact search."""
    from qdrant_client import models
    result = RecallResult(k=k, queries=len(queries))
    for vector in queries:
        ann = qdrant.query_points(name, query=vector, limit=k, search_params=models.SearchParams(exact=False)).points
        exact = qdrant.query_points(name, query=vector, limit=k, search_params=models.SearchParams(exact=True)).points
        truth = {p.id for p in exact}
        if truth:
            result.per_query.append(len({p.id for p in ann} & truth) / min(k, len(truth)))
    return result


def point_payload(qdrant: QdrantClient, name: str, point_id: str) -> dict[str, Any] | None:
    """The payload of one point, or None when the point is not there."""
    found = qdrant.retrieve(name, ids=[point_id], with_payload=True)
    return dict(found[0].payload or {}) if found else None


def run_points(qdrant: QdrantClient, name: str, run_id: str) -> int:
    """Points whose payload carries the run id (test data that must be gone after the run)."""
    from qdrant_client import models
    if not qdrant.collection_exists(name):
        return 0
    condition = models.FieldCondition(key="run_id", match=models.MatchValue(value=run_id))
    return int(qdrant.count(name, count_filter=models.Filter(must=[condition]), exact=True).count)


def snapshot_round_trip(qdrant: QdrantClient, name: str, url: str, api_key: str | None) -> tuple[bool, str]:
    """Snapshot the collection, restore it into a scratch collection, compare point counts, clean up.

    Returns (supported, problem): a store without snapshots answers 404/501 at the first step. The
    restore uploads the downloaded snapshot (Qdrant's `snapshots/upload`), so it needs no shared disk.
    """
    from qdrant_client.http.exceptions import UnexpectedResponse
    import httpx

    try:
        snapshot = qdrant.create_snapshot(name, wait=True)
    except UnexpectedResponse as exc:
        if exc.status_code in (404, 501):
            return False, f"the vector store does not support snapshots (HTTP {exc.status_code}: {exc.content[:200]!r})"
        raise
    scratch = f"{name}_restore_check"
    headers = {"api-key": api_key} if api_key else {}
    problem = ""
    try:
        if snapshot is None or snapshot.name not in [s.name for s in qdrant.list_snapshots(name)]:
            return True, f"snapshot {getattr(snapshot, 'name', None)} was created but is not listed"
        data = httpx.get(f"{url}/collections/{name}/snapshots/{snapshot.name}", headers=headers, timeout=120).content
        answer = httpx.post(f"{url}/collections/{scratch}/snapshots/upload?wait=true", headers=headers, timeout=300,
                            files={"snapshot": (snapshot.name, data)})
        if answer.status_code != 200:
            problem = f"restoring the snapshot answered {answer.status_code}: {answer.text[:200]}"
        else:
            original, restored = qdrant.count(name, exact=True).count, qdrant.count(scratch, exact=True).count
            if original != restored:
                problem = f"the restored collection has {restored} points, the original {original}"
    finally:
        qdrant.delete_snapshot(name, snapshot.name, wait=True)
        if qdrant.collection_exists(scratch):
            qdrant.delete_collection(scratch)
    return True, problem
