"""The store behind the REST API: one in-memory qdrant-client local engine, guarded by a lock.

The local engine is exact brute force and not thread-safe, so every call takes ``_lock``. It also
ignores collection-level HNSW/WAL/optimizer settings and most payload indexes; this wrapper records
what each collection was created with and which payload indexes were asked for, and reports them
in the collection info the way a Qdrant server would.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from qdrant_client import QdrantClient
from qdrant_client.http import models

from .errors import QdrantError, collection_exists, collection_not_found, wrong_input

T = TypeVar("T")

# What a Qdrant server reports for settings a collection was created without.
DEFAULT_HNSW = models.HnswConfig(m=16, ef_construct=100, full_scan_threshold=10000, max_indexing_threads=0,
                                 on_disk=False)
DEFAULT_WAL = models.WalConfig(wal_capacity_mb=32, wal_segments_ahead=0)
DEFAULT_OPTIMIZERS = models.OptimizersConfig(deleted_threshold=0.2, vacuum_min_vector_number=1000,
                                             default_segment_number=0, flush_interval_sec=5)


@dataclass
class CollectionExtras:
    """What the local engine does not keep: the creation request and the payload indexes asked for."""

    created_with: models.CreateCollection
    payload_indexes: dict[str, models.PayloadFieldSchema] = field(default_factory=dict)


class VectorEngine:
    """Thread-safe facade over ``QdrantClient(":memory:")`` speaking in ``qdrant_client.http.models``."""

    def __init__(self) -> None:
        self._client = QdrantClient(":memory:")
        self._lock = threading.RLock()
        self._extras: dict[str, CollectionExtras] = {}
        self._operation_ids = itertools.count(1)

    # -- collections -------------------------------------------------------------------------------

    def list_collections(self) -> models.CollectionsResponse:
        """All collections, by name."""
        with self._lock:
            return self._client.get_collections()

    def exists(self, name: str) -> bool:
        """Whether collection `name` exists."""
        with self._lock:
            return self._client.collection_exists(name)

    def create_collection(self, name: str, request: models.CreateCollection) -> bool:
        """Create `name` with the request's vectors; other settings are recorded, not applied."""
        if request.vectors is None and not request.sparse_vectors:
            raise wrong_input("Collection must have at least one vector (`vectors` or `sparse_vectors`)")
        with self._lock:
            if self._client.collection_exists(name):
                raise collection_exists(name)
            self._call(lambda: self._client.create_collection(
                name, vectors_config=request.vectors, sparse_vectors_config=request.sparse_vectors,
                metadata=request.metadata,
            ))
            self._extras[name] = CollectionExtras(created_with=request)
            return True

    def delete_collection(self, name: str) -> bool:
        """Delete `name`; False when it did not exist (as Qdrant answers)."""
        with self._lock:
            self._extras.pop(name, None)
            return self._client.delete_collection(name)

    def collection_info(self, name: str) -> models.CollectionInfo:
        """The engine's info with the recorded settings and payload schema filled in."""
        with self._lock:
            self._require(name)
            info = self._client.get_collection(name)
            extras = self._extras[name]
            schema = {field_name: self._index_info(name, field_name, field_schema)
                      for field_name, field_schema in extras.payload_indexes.items()}
        return _with_recorded_settings(info, extras.created_with, schema)

    def create_payload_index(self, name: str, request: models.CreateFieldIndex) -> models.UpdateResult:
        """Record a payload index (shown in ``payload_schema``; the local engine filters by scanning)."""
        if request.field_schema is None:
            raise wrong_input("field_schema is required to create a payload index")
        with self._lock:
            self._require(name)
            self._call(lambda: self._client.create_payload_index(name, request.field_name,
                                                                 field_schema=request.field_schema))
            self._extras[name].payload_indexes[request.field_name] = request.field_schema
            return self._update_result()

    # -- points ------------------------------------------------------------------------------------

    def upsert(self, name: str, operation: models.PointInsertOperations) -> models.UpdateResult:
        """Insert or replace points given as a list or as a batch."""
        points: Any = operation.points if isinstance(operation, models.PointsList) else operation.batch
        with self._lock:
            self._require(name)
            self._call(lambda: self._client.upsert(name, points=points, update_filter=operation.update_filter))
            return self._update_result()

    def retrieve(self, name: str, request: models.PointRequest) -> list[models.Record]:
        """Points by id (payload by default, no vectors by default, as Qdrant)."""
        with self._lock:
            self._require(name)
            return self._call(lambda: self._client.retrieve(
                name, ids=request.ids, with_payload=_or(request.with_payload, True),
                with_vectors=_or(request.with_vector, False),
            ))

    def get_point(self, name: str, point_id: models.ExtendedPointId) -> models.Record:
        """One point by id, with payload and vectors (Qdrant's GET /collections/{c}/points/{id})."""
        with self._lock:
            self._require(name)
            found = self._call(lambda: self._client.retrieve(name, ids=[point_id], with_payload=True,
                                                             with_vectors=True))
        if not found:
            raise QdrantError(404, f"Not found: No point with id {point_id} found")
        return found[0]

    def delete_points(self, name: str, selector: models.PointsSelector) -> models.UpdateResult:
        """Delete points by ids or by filter."""
        with self._lock:
            self._require(name)
            self._call(lambda: self._client.delete(name, points_selector=selector))
            return self._update_result()

    def query(self, name: str, request: models.QueryRequest) -> models.QueryResponse:
        """The query API, answered exactly (brute force) whatever ``params.exact`` says."""
        with self._lock:
            self._require(name)
            return self._call(lambda: self._client.query_points(
                name, query=request.query, using=request.using, prefetch=request.prefetch,
                query_filter=request.filter, search_params=request.params, limit=_or(request.limit, 10),
                offset=request.offset, with_payload=_or(request.with_payload, False),
                with_vectors=_or(request.with_vector, False), score_threshold=request.score_threshold,
                lookup_from=request.lookup_from,
            ))

    def scroll(self, name: str, request: models.ScrollRequest) -> models.ScrollResult:
        """One page of points in id order (or payload order with ``order_by``)."""
        with self._lock:
            self._require(name)
            points, next_offset = self._call(lambda: self._client.scroll(
                name, scroll_filter=request.filter, limit=_or(request.limit, 10), order_by=request.order_by,
                offset=request.offset, with_payload=_or(request.with_payload, True),
                with_vectors=_or(request.with_vector, False),
            ))
        return models.ScrollResult(points=points, next_page_offset=next_offset)

    def count(self, name: str, request: models.CountRequest) -> models.CountResult:
        """How many points match the filter (always counted exactly)."""
        with self._lock:
            self._require(name)
            return self._call(lambda: self._client.count(name, count_filter=request.filter, exact=True))

    # -- monitoring --------------------------------------------------------------------------------

    def points_per_collection(self) -> dict[str, int]:
        """collection name -> points, for /metrics."""
        with self._lock:
            names = [c.name for c in self._client.get_collections().collections]
            return {n: self._client.count(n, exact=True).count for n in names}

    # -- helpers -----------------------------------------------------------------------------------

    def _require(self, name: str) -> None:
        if not self._client.collection_exists(name):
            raise collection_not_found(name)

    def _update_result(self) -> models.UpdateResult:
        return models.UpdateResult(operation_id=next(self._operation_ids), status=models.UpdateStatus.COMPLETED)

    def _index_info(self, name: str, field_name: str, schema: models.PayloadFieldSchema) -> models.PayloadIndexInfo:
        if isinstance(schema, models.PayloadSchemaType):
            data_type, params = schema, None
        else:
            data_type, params = models.PayloadSchemaType(schema.type.value), schema
        has_field = models.Filter(must_not=[models.IsEmptyCondition(is_empty=models.PayloadField(key=field_name))])
        points = self._client.count(name, count_filter=has_field, exact=True).count
        return models.PayloadIndexInfo(data_type=data_type, params=params, points=points)

    @staticmethod
    def _call(operation: Callable[[], T]) -> T:
        """Run an engine call, turning its refusals (ValueError and the like) into 400 Wrong input."""
        try:
            return operation()
        except QdrantError:
            raise
        except (ValueError, TypeError, KeyError, AssertionError) as exc:
            message = str(exc) or type(exc).__name__
            raise wrong_input(message.removeprefix("Wrong input: ")) from exc


def _or(value: T | None, default: T) -> T:
    return default if value is None else value


def _with_recorded_settings(info: models.CollectionInfo, created: models.CreateCollection,
                            payload_schema: dict[str, models.PayloadIndexInfo]) -> models.CollectionInfo:
    """The engine's info, with the creation request's settings echoed as a server would report them."""
    params = info.config.params.model_copy(update={
        "shard_number": _or(created.shard_number, 1),
        "replication_factor": _or(created.replication_factor, 1),
        "write_consistency_factor": _or(created.write_consistency_factor, 1),
        "on_disk_payload": _or(created.on_disk_payload, True),
        "sharding_method": created.sharding_method,
    })
    config = info.config.model_copy(update={
        "params": params,
        "hnsw_config": _merged(DEFAULT_HNSW, created.hnsw_config),
        "wal_config": _merged(DEFAULT_WAL, created.wal_config),
        "optimizer_config": _merged(DEFAULT_OPTIMIZERS, created.optimizers_config),
        "quantization_config": created.quantization_config,
    })
    return info.model_copy(update={"config": config, "payload_schema": payload_schema, "segments_count": 1})


def _merged(default: T, diff: Any) -> T:
    if diff is None:
        return default
    known = type(default).model_fields  # type: ignore[attr-defined]
    update = {k: v for k, v in diff.model_dump(exclude_none=True).items() if k in known}
    return default.model_copy(update=update)  # type: ignore[attr-defined]
