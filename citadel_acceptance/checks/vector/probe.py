"""The vector store as the suite sees it, through qdrant-client as against any Qdrant."""
from __future__ import annotations

import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, cast

from citadel_acceptance.checks.vector.store_errors import answer_text, as_sentence, guarded, store_errors, unguarded
from citadel_acceptance.errors import SuiteConfigError

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
    payload_indexes: Mapping[str, str] = field(default_factory=dict)  # field -> index type


@dataclass(frozen=True)
class IndexFacts:
    """What Qdrant says about a collection's vector index: how much of it is indexed, and how."""

    status: str
    points: int
    indexed_vectors: int
    segments: int
    vector_size: int
    m: int
    ef_construct: int
    full_scan_threshold_kb: int
    indexing_threshold_kb: int | None  # 0: indexing disabled; None: not reported (Qdrant's default applies)

    @property
    def vectors_kb(self) -> float:
        """The collection's vector data in kilobytes (float32), the unit of Qdrant's index thresholds."""
        return self.points * self.vector_size * 4 / 1024

    @property
    def unindexed_kb(self) -> float:
        """The vector data not in an HNSW graph yet, in kilobytes."""
        return max(self.points - self.indexed_vectors, 0) * self.vector_size * 4 / 1024

    def as_evidence(self) -> dict[str, Any]:
        """The facts, with Qdrant's names, for the evidence."""
        return {"status": self.status, "points_count": self.points, "indexed_vectors_count": self.indexed_vectors,
                "segments_count": self.segments, "hnsw_config.m": self.m, "hnsw_config.ef_construct": self.ef_construct,
                "hnsw_config.full_scan_threshold_kb": self.full_scan_threshold_kb,
                "optimizer_config.indexing_threshold_kb": self.indexing_threshold_kb,
                "vectors_kb": round(self.vectors_kb, 1)}


@dataclass(frozen=True)
class IndexPreparation:
    """How the recall scenario made sure its sample sits in the HNSW index: what it lowered and what it saw."""

    before: IndexFacts
    after: IndexFacts
    lowered: Mapping[str, tuple[int | None, int]]  # setting -> (value it had, value set for the measurement)
    waited_s: float
    problem: str = ""  # why the collection is not (fully) indexed, "" when it is

    def as_evidence(self) -> dict[str, Any]:
        """Before, after, the settings lowered and the wait, for the evidence."""
        return {"before": self.before.as_evidence(), "after": self.after.as_evidence(),
                "lowered": {k: {"was": was, "set_to": now} for k, (was, now) in self.lowered.items()},
                "waited_s": round(self.waited_s, 2), "problem": self.problem}


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
    """A REST client (the same code path the gateway uses) whose every call says a failure of the store in one
    sentence: an unreachable or foreign store is "environment not ready", a refused key a suite error."""
    from qdrant_client import QdrantClient
    raw = QdrantClient(url=url, api_key=api_key or None, timeout=TIMEOUT_S, https=url.startswith("https"),
                       check_compatibility=False)
    return cast("QdrantClient", guarded(raw, url))  # every attribute is the client's, its calls guarded


class NoSample(AssertionError):
    """The collection gave no stored vector to search with: a failure with its reason, never a vacuous pass."""


def _dense_vectors(vectors: Any) -> dict[str | None, Any]:
    """The collection's dense vectors by name (None: the one unnamed vector), from `config.params.vectors`."""
    from qdrant_client import models
    if isinstance(vectors, models.VectorParams):
        return {None: vectors}
    return dict(vectors) if isinstance(vectors, Mapping) else {}


def _params_of(vectors: Any, size: int | None = None) -> Any:
    """The vector whose settings describe the collection: the unnamed one, the only named one, else the first
    named one of `size`, else the first; None for a collection without dense vectors."""
    dense = _dense_vectors(vectors)
    sized = [params for params in dense.values() if size and params.size == size]
    return (sized or list(dense.values()) or [None])[0]


def search_vector(qdrant: QdrantClient, name: str, size: int | None = None, wanted: str = "") -> str | None:
    """Which vector searches of the collection use: None for a collection of one unnamed vector; else `wanted`,
    the only named vector, or the only one of `size` (the profile's). Raise SuiteConfigError naming the vectors
    that exist where none of these decides."""
    dense = _dense_vectors(qdrant.get_collection(name).config.params.vectors)
    if None in dense:
        return None
    names = ", ".join(f"{n!r} (size {p.size})" for n, p in dense.items()) or "none"
    if wanted and wanted in dense:
        return wanted
    if not wanted and len(dense) == 1:
        return str(next(iter(dense)))
    sized = [str(n) for n, p in dense.items() if size and p.size == size]
    if not wanted and len(sized) == 1:
        return sized[0]
    seen = f"no vector named {wanted!r}" if wanted else (f"{len(sized)} of size {size}" if sized else
                                                          f"none of the profile's size {size}")
    raise SuiteConfigError(f"expected one dense vector to search in collection {name!r}, found {seen} among its "
                           f"named vectors {names}: the suite cannot tell which one the gateway searches (name it in "
                           f"the profile: [vector] vector_name)")


def collection_facts(qdrant: QdrantClient, name: str, size: int | None = None) -> CollectionFacts:
    """Existence, status, vector size, distance and point count (of the vector `_params_of` picks)."""
    if not qdrant.collection_exists(name):
        return CollectionFacts(name=name, exists=False)
    info = qdrant.get_collection(name)
    params = _params_of(info.config.params.vectors, size)
    if params is None:
        return CollectionFacts(name=name, exists=True, status=str(getattr(info.status, "value", info.status)),
                               distance="no dense vector", points=int(info.points_count or 0))
    indexes = {field_name: str(getattr(index.data_type, "value", index.data_type))
               for field_name, index in (info.payload_schema or {}).items()}
    return CollectionFacts(name=name, exists=True, status=str(getattr(info.status, "value", info.status)),
                           vector_size=params.size, distance=str(getattr(params.distance, "value", params.distance)),
                           points=int(info.points_count or 0), payload_indexes=indexes)


def index_facts(qdrant: QdrantClient, name: str) -> IndexFacts:
    """Status, points, indexed vectors and the HNSW and indexing settings in effect (a vector's own HNSW
    settings over the collection's)."""
    info = qdrant.get_collection(name)
    params = _params_of(info.config.params.vectors)
    hnsw = info.config.hnsw_config
    return IndexFacts(status=str(getattr(info.status, "value", info.status)), points=int(info.points_count or 0),
                      indexed_vectors=int(info.indexed_vectors_count or 0), segments=int(info.segments_count or 0),
                      vector_size=params.size if params is not None else 0, m=_hnsw(params, hnsw, "m"),
                      ef_construct=_hnsw(params, hnsw, "ef_construct"),
                      full_scan_threshold_kb=_hnsw(params, hnsw, "full_scan_threshold"),
                      indexing_threshold_kb=info.config.optimizer_config.indexing_threshold)


def _hnsw(params: Any, collection_hnsw: Any, key: str) -> int:
    own_config = getattr(params, "hnsw_config", None)
    own = getattr(own_config, key, None) if own_config is not None else None
    return int(getattr(collection_hnsw, key) if own is None else own)


# Once the collection was seen green this long with nothing changed, its optimizer had nothing left to do.
SETTLED_S = 5.0


def prepare_index(qdrant: QdrantClient, name: str, wait_s: float, sample_points: int | None = None,
                  progress: Callable[[str], None] | None = None) -> IndexPreparation:
    """Make sure the sample's vectors sit in the collection's HNSW index and searches go through the graph.

    Qdrant indexes a segment only once its vectors pass the optimizer's ``indexing_threshold``, and searches
    a segment smaller than the HNSW ``full_scan_threshold`` by a full scan (both in kilobytes; default 10 MB,
    about 4,400 vectors of 576 dimensions): a sample of 100 documents meets no index. Where a threshold is
    above half the sample's size (`sample_points`, else the collection's), it is lowered to that for the
    measurement (``restore_index_settings`` sets it back). Then the collection is waited for, at most
    `wait_s`, until it is green again after its optimizer ran: seen busy, or its indexed count changed, or
    nothing changed for ``SETTLED_S`` (``indexed_vectors_count`` also counts deleted vectors, so it cannot
    say alone whether new points were indexed).
    """
    from qdrant_client import models
    before = index_facts(qdrant, name)
    points = before.points if sample_points is None else min(sample_points, before.points)
    target_kb = max(1, int(points * before.vector_size * 4 / 1024 // 2))
    lowered: dict[str, tuple[int | None, int]] = {}
    if not before.indexing_threshold_kb or before.indexing_threshold_kb > target_kb:
        lowered["indexing_threshold_kb"] = (before.indexing_threshold_kb, target_kb)
    if before.full_scan_threshold_kb > target_kb:
        lowered["full_scan_threshold_kb"] = (before.full_scan_threshold_kb, target_kb)
    problem = ""
    if lowered and before.points:
        try:
            qdrant.update_collection(name, optimizers_config=models.OptimizersConfigDiff(indexing_threshold=target_kb)
                                     if "indexing_threshold_kb" in lowered else None,
                                     hnsw_config=models.HnswConfigDiff(full_scan_threshold=target_kb)
                                     if "full_scan_threshold_kb" in lowered else None)
        except Exception as exc:  # a read-only key, a store without PATCH: measured as it is, the verdict says so
            problem = f"lowering the index thresholds failed ({type(exc).__name__}: {str(exc)[:160]})"
            lowered = {}
    else:
        lowered = {}
    started = time.monotonic()
    after, busy_seen, last_line = index_facts(qdrant, name), False, started
    while not problem:
        now = time.monotonic()
        busy_seen = busy_seen or after.status != "green"
        if after.status == "green" and (not lowered or busy_seen or after.indexed_vectors != before.indexed_vectors
                                        or now - started >= SETTLED_S):
            break
        if now - started >= wait_s:
            problem = (f"the collection was not indexed within {wait_s:g} s: status {after.status}, "
                       f"indexed_vectors_count {after.indexed_vectors}, points {after.points}")
            break
        if progress is not None and now - last_line >= 5:
            progress(f"waiting for {name} to be indexed: status {after.status}, indexed_vectors_count "
                     f"{after.indexed_vectors} of {after.points} points, {now - started:.0f} s")
            last_line = now
        time.sleep(0.25)
        after = index_facts(qdrant, name)
    return IndexPreparation(before, after, lowered, time.monotonic() - started, problem)


def restore_index_settings(qdrant: QdrantClient, name: str, preparation: IndexPreparation) -> None:
    """Set back what `prepare_index` lowered (a value the collection did not report stays as set)."""
    from qdrant_client import models
    was = {key: old for key, (old, _) in preparation.lowered.items() if old is not None}
    if not was or not qdrant.collection_exists(name):
        return
    qdrant.update_collection(
        name, optimizers_config=models.OptimizersConfigDiff(indexing_threshold=was["indexing_threshold_kb"])
        if "indexing_threshold_kb" in was else None,
        hnsw_config=models.HnswConfigDiff(full_scan_threshold=was["full_scan_threshold_kb"])
        if "full_scan_threshold_kb" in was else None)


def stderr_line(text: str) -> None:
    """A progress line on stderr."""
    print(text, file=sys.stderr, flush=True)


def _stored_vector(point: Any, using: str | None) -> list[float] | None:
    """A scrolled point's dense vector (the named one `using`), None where it has none."""
    vector = point.vector.get(using) if isinstance(point.vector, Mapping) and using is not None else point.vector
    return vector if isinstance(vector, list) else None


def sample_vectors(qdrant: QdrantClient, name: str, count: int, seed: int = 7,
                   using: str | None = None) -> list[list[float]]:
    """Stored vectors to use as queries (a seeded sample of the first points scrolled; the named vector `using`
    where the collection names its vectors, see `search_vector`). None found is a failure (NoSample) saying why."""
    points, _ = qdrant.scroll(name, limit=max(count * 5, 50), with_vectors=True if using is None else [using],
                              with_payload=False)
    vectors = [v for v in (_stored_vector(p, using) for p in points) if v is not None]
    if not vectors and count > 0:
        named = sorted({str(n) for p in points if isinstance(p.vector, Mapping) for n in p.vector})
        why = (f"its points carry named vectors {named} and no search vector was chosen" if named and using is None
               else f"no point carries a dense vector{f' named {using!r}' if using else ''}")
        raise NoSample(f"expected {count} stored vectors of collection {name!r} to search with, found none among the "
                       f"{len(points)} points scrolled: {why}")
    random.Random(seed).shuffle(vectors)
    return vectors[:count]


def timed_searches(qdrant: QdrantClient, name: str, queries: list[list[float]], k: int,
                   using: str | None = None) -> list[float]:
    """Milliseconds of each similarity search (the deployed, non-exact kind)."""
    from qdrant_client import models
    samples = []
    for vector in queries:
        started = time.perf_counter()
        qdrant.query_points(name, query=vector, using=using, limit=k, search_params=models.SearchParams(exact=False))
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def concurrent_searches(qdrant: QdrantClient, name: str, queries: list[list[float]], k: int,
                        using: str | None = None) -> tuple[list[float], list[str]]:
    """All queries at once, one thread each: (milliseconds of those that worked, errors of those that did not).
    No query is no search, and an error saying so (never a pool of no thread)."""
    if not queries:
        return [], [f"no stored vector of collection {name!r} to search with, so no search was made"]

    def one(vector: list[float]) -> float:
        started = time.perf_counter()
        qdrant.query_points(name, query=vector, using=using, limit=k)
        return (time.perf_counter() - started) * 1000

    samples, errors = [], []
    with ThreadPoolExecutor(max_workers=len(queries)) as pool:
        for future in [pool.submit(one, q) for q in queries]:
            try:
                samples.append(future.result(timeout=TIMEOUT_S * 2))
            except Exception as exc:  # every failure counts, whatever its kind
                errors.append(f"{type(exc).__name__}: {str(exc)[:160]}")
    return samples, errors


def concurrent_search_rounds(qdrant: QdrantClient, name: str, count: int, rounds: int,
                             k: int, using: str | None = None) -> tuple[list[float], list[str], int]:
    """`count` searches at once, `rounds` times: (milliseconds of those that worked, errors, the fewest that worked
    in any one round)."""
    samples: list[float] = []
    errors: list[str] = []
    served = []
    for _ in range(rounds):
        times, failed = concurrent_searches(qdrant, name, sample_vectors(qdrant, name, count, using=using), k, using)
        samples += times
        errors += failed
        served.append(len(times))
    return samples, errors, min(served, default=0)


def recall_at_k(qdrant: QdrantClient, name: str, queries: list[list[float]], k: int,
                using: str | None = None) -> RecallResult:
    """|ANN top-k ∩ exact top-k| / k per query, exact from the store's own exact search."""
    from qdrant_client import models
    result = RecallResult(k=k, queries=len(queries))
    for vector in queries:
        ann = qdrant.query_points(name, query=vector, using=using, limit=k,
                                  search_params=models.SearchParams(exact=False)).points
        exact = qdrant.query_points(name, query=vector, using=using, limit=k,
                                    search_params=models.SearchParams(exact=True)).points
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

    Returns (supported, problem): a store without snapshots answers 404/501 at the first step (skipped), but a
    404 for a collection that does not exist, or a refusal of the suite's key (401/403), is a problem (failed),
    and so is a snapshot that is not there to list, download or restore. The restore uploads the downloaded
    snapshot (Qdrant's `snapshots/upload`), so it needs no shared disk. A store that stops answering is
    "environment not ready" (after the clean-up); the clean-up itself never raises: what it leaves is said.
    """
    from qdrant_client.http.exceptions import UnexpectedResponse

    raw = unguarded(qdrant)  # this check reads the store's statuses itself
    try:
        snapshot = raw.create_snapshot(name, wait=True)
    except UnexpectedResponse as exc:
        said = f"HTTP {exc.status_code}: {answer_text(exc.content)}"
        with store_errors(url, f"to say whether {name!r} exists"):
            missing = exc.status_code == 404 and not raw.collection_exists(name)
        if missing:
            return True, f"the collection {name!r} to snapshot does not exist ({said})"
        if exc.status_code in (404, 501):
            return False, f"the vector store does not support snapshots ({said})"
        if exc.status_code in (401, 403):
            return True, (f"the vector store refused to snapshot {name!r} with the suite's key ({said}): the Qdrant "
                          "key may not create snapshots (a read-only key?); give [secrets] qdrant_api_key a key with "
                          "write access, or run without -D allow_mutation=yes, which leaves this scenario out")
        return True, f"creating a snapshot of {name!r} failed ({said})"
    except Exception as exc:
        raise as_sentence(exc, url, f"to snapshot {name!r}") from None
    snapshot_name = getattr(snapshot, "name", None)
    if not snapshot_name:
        return True, f"creating a snapshot of {name!r} answered no snapshot"
    scratch = f"{name}_restore_check"
    headers = {"api-key": api_key} if api_key else {}
    problem, failure = "", None
    try:
        problem = _restore_and_compare(raw, name, snapshot_name, scratch, url, headers)
    except UnexpectedResponse as exc:
        problem = f"the snapshot round trip of {name!r} was refused: HTTP {exc.status_code}: {answer_text(exc.content)}"
    except Exception as exc:  # the store stopped answering: clean up first, then say so
        failure = as_sentence(exc, url, f"during the snapshot round trip of {name!r}")
    left = _remove_snapshot(raw, name, snapshot_name, scratch)
    if failure is not None:
        raise failure from None
    return True, "; ".join(p for p in (problem, left) if p)


def _restore_and_compare(raw: Any, name: str, snapshot_name: str, scratch: str, url: str,
                         headers: dict[str, str]) -> str:
    """List, download and upload-restore the snapshot, then compare point counts ("" when they agree)."""
    import httpx

    listed = [getattr(s, "name", None) for s in raw.list_snapshots(name) or []]
    if snapshot_name not in listed:
        return f"expected snapshot {snapshot_name} of {name!r} in the store's list, it lists {listed or 'none'}"
    download = httpx.get(f"{url}/collections/{name}/snapshots/{snapshot_name}", headers=headers, timeout=120)
    if download.status_code != 200:
        return (f"expected snapshot {snapshot_name} of {name!r} to download, got HTTP {download.status_code}: "
                f"{answer_text(download.content)}")
    answer = httpx.post(f"{url}/collections/{scratch}/snapshots/upload?wait=true", headers=headers, timeout=300,
                        files={"snapshot": (snapshot_name, download.content)})
    if answer.status_code != 200:
        return f"restoring the snapshot answered {answer.status_code}: {answer_text(answer.content)}"
    original, restored = raw.count(name, exact=True).count, raw.count(scratch, exact=True).count
    return "" if original == restored else f"the restored collection has {restored} points, the original {original}"


def _remove_snapshot(raw: Any, name: str, snapshot_name: str, scratch: str) -> str:
    """Delete the snapshot and the scratch collection; what could not be removed, in words ("" when all went)."""
    left = []
    removals: list[tuple[str, Callable[[], Any]]] = [
        (f"snapshot {snapshot_name} of {name!r}", lambda: raw.delete_snapshot(name, snapshot_name, wait=True)),
        (f"scratch collection {scratch!r}", lambda: raw.collection_exists(scratch) and raw.delete_collection(scratch))]
    for what, remove in removals:
        try:
            remove()
        except Exception as exc:  # a clean-up that fails leaves a note, never a second error
            left.append(f"{what} was not removed ({type(exc).__name__}: {' '.join(str(exc).split())[:120]})")
    return "; ".join(left)
