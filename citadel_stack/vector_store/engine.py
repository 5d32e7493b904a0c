"""The store behind the REST API: Qdrant's own engine (qdrant-edge), one Edge shard per collection.

Each collection lives in ``<data dir>/collections/<name>/`` (its settings and its shard) and is loaded
again when the store restarts on the same data directory; without one, the store keeps its data in a
temporary directory removed when it stops. Searches use the collection's HNSW index where one is built
(``params.exact`` asks for the exact scan), filters use its payload indexes, and the collection info
(status, ``indexed_vectors_count``, segments, payload schema) comes from the engine.

Requests and answers speak ``qdrant_client.http.models``; ``convert.py`` translates.
"""

from __future__ import annotations

import itertools
import re
import shutil
import tempfile
import threading
from pathlib import Path
from uuid import UUID

import qdrant_edge as qe
from qdrant_client.http import models

from . import convert, settings
from .collection import Collection, stored_collections
from .errors import QdrantError, collection_exists, collection_not_found, validation_error, wrong_input
from .faults import FaultSet

COLLECTIONS_DIR = "collections"
# Qdrant refuses these characters in collection names; here the name is also a directory name.
_FORBIDDEN_NAME = re.compile(r'[<>:"/\\|?*\x00]')


class VectorEngine:
    """The collections of one store process, each on its own Edge shard."""

    def __init__(self, data_dir: Path | None = None, faults: FaultSet = FaultSet()) -> None:
        self._temporary = data_dir is None
        self.data_dir = Path(tempfile.mkdtemp(prefix="citadel-vector-store-")) if data_dir is None else data_dir
        self._root = self.data_dir / COLLECTIONS_DIR
        self._root.mkdir(parents=True, exist_ok=True)
        self._faults = faults
        self._registry = threading.Lock()
        self._operation_ids = itertools.count(1)
        self._collections: dict[str, Collection] = {}
        for name, directory in stored_collections(self._root).items():
            collection = Collection.load(name, directory, faults.degrade_fraction)
            self._drop_missing_indexes(collection)
            self._collections[name] = collection

    def close(self) -> None:
        """Close every shard (flushed to disk); a temporary data directory is removed."""
        with self._registry:
            collections, self._collections = list(self._collections.values()), {}
        for collection in collections:
            collection.close()
        if self._temporary:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # -- collections -------------------------------------------------------------------------------

    def list_collections(self) -> models.CollectionsResponse:
        """All collections, by name."""
        with self._registry:
            names = sorted(self._collections)
        return models.CollectionsResponse(collections=[models.CollectionDescription(name=n) for n in names])

    def exists(self, name: str) -> bool:
        """Whether collection `name` exists."""
        with self._registry:
            return name in self._collections

    def create_collection(self, name: str, request: models.CreateCollection) -> bool:
        """Create `name` with the request's settings over Qdrant's defaults."""
        _check_name(name)
        config = settings.from_request(request)
        with self._registry:
            if name in self._collections:
                raise collection_exists(name)
            directory = self._root / name
            if directory.exists():  # left over by a deletion that could not remove it
                shutil.rmtree(directory)
            self._collections[name] = Collection.create(name, directory, config, self._faults.degrade_fraction)
        return True

    def update_collection(self, name: str, request: models.UpdateCollection) -> bool:
        """``PATCH /collections/{c}``: new HNSW, optimizer, vector or payload settings, applied by the engine."""
        self._get(name).reconfigure(request)
        return True

    def delete_collection(self, name: str) -> bool:
        """Delete `name` and its files; False when it did not exist (as Qdrant answers)."""
        with self._registry:
            collection = self._collections.pop(name, None)
        if collection is None:
            return False
        collection.drop()
        return True

    def collection_info(self, name: str) -> models.CollectionInfo:
        """Status, counts, settings in effect and payload schema, from the engine."""
        collection = self._get(name)
        status = collection.status()
        info = collection.read(lambda shard: shard.info())
        error = collection.optimizer.error
        optimizer_status = (models.OptimizersStatusOneOf1(error=error) if error
                            else models.OptimizersStatusOneOf.OK)
        return models.CollectionInfo(
            status=status, optimizer_status=optimizer_status, indexed_vectors_count=info.indexed_vectors_count,
            points_count=info.points_count, segments_count=info.segments_count, config=collection.effective,
            payload_schema={field: convert.payload_index_info(index) for field, index in info.payload_schema.items()},
        )

    def create_payload_index(self, name: str, request: models.CreateFieldIndex) -> models.UpdateResult:
        """Build a payload index on a field (used by filters from then on)."""
        if request.field_schema is None:
            raise wrong_input("field_schema is required to create a payload index")
        collection = self._get(name)
        if request.field_name not in self._faults.missing_payload_indexes:  # the fault acknowledges, builds nothing
            collection.write(qe.UpdateOperation.create_field_index(request.field_name,
                                                                   convert.index_schema(request.field_schema)))
        return self._update_result()

    def delete_payload_index(self, name: str, field_name: str) -> models.UpdateResult:
        """Remove the payload index of a field."""
        self._get(name).write(qe.UpdateOperation.delete_field_index(field_name))
        return self._update_result()

    # -- points ------------------------------------------------------------------------------------

    def upsert(self, name: str, operation: models.PointInsertOperations) -> models.UpdateResult:
        """Insert or replace points given as a list or as a batch (conditionally, with ``update_filter``)."""
        collection = self._get(name)
        update = qe.UpdateOperation.upsert_points(convert.points(operation),
                                                  condition=convert.filter_(operation.update_filter))
        collection.write(update, may_index=True)
        return self._update_result()

    def retrieve(self, name: str, request: models.PointRequest) -> list[models.Record]:
        """Points by id (payload by default, no vectors by default, as Qdrant)."""
        ids = [convert.point_id(i) for i in request.ids]
        found = self._get(name).read(lambda shard: shard.retrieve(
            ids, with_payload=convert.with_payload(request.with_payload, True),
            with_vector=convert.with_vector(request.with_vector, False)))
        return [convert.record(r) for r in found]

    def get_point(self, name: str, point_id: models.ExtendedPointId) -> models.Record:
        """One point by id, with payload and vectors (Qdrant's GET /collections/{c}/points/{id})."""
        wanted = convert.point_id(point_id)
        found = self._get(name).read(lambda shard: shard.retrieve([wanted], with_payload=True, with_vector=True))
        if not found:
            raise QdrantError(404, f"Not found: No point with id {point_id} found")
        return convert.record(found[0])

    def delete_points(self, name: str, selector: models.PointsSelector) -> models.UpdateResult:
        """Delete points by ids or by filter."""
        collection = self._get(name)
        if isinstance(selector, models.PointIdsList):
            update = qe.UpdateOperation.delete_points([convert.point_id(i) for i in selector.points])
        else:
            update = qe.UpdateOperation.delete_points_by_filter(convert.filter_(selector.filter))
        collection.write(update, may_vacuum=True)
        return self._update_result()

    def query(self, name: str, request: models.QueryRequest) -> models.QueryResponse:
        """A nearest-vector search: HNSW where the collection has an index, exact with ``params.exact``."""
        collection = self._get(name)
        if request.prefetch is not None or request.lookup_from is not None:
            raise convert.unsupported("prefetch or lookup_from")
        query_filter = convert.filter_(request.filter)
        query = None
        if request.query is not None:
            vector = convert.query_vector(request.query)
            if isinstance(vector, (int, str, UUID)):  # a point id: its vector, the point itself left out
                wanted = convert.point_id(vector)
                vector = self._vector_of(collection, wanted, request.using)
                query_filter = qe.Filter(must=[query_filter] if query_filter else None,
                                         must_not=[qe.HasIdCondition({wanted})])
            query = convert.nearest(vector, request.using)
        engine_request = qe.QueryRequest(
            limit=10 if request.limit is None else request.limit, offset=request.offset, query=query,
            with_vector=convert.with_vector(request.with_vector, False),
            with_payload=convert.with_payload(request.with_payload, False), filter=query_filter,
            score_threshold=request.score_threshold, params=convert.search_params(request.params))
        points = collection.read(lambda shard: shard.query(engine_request))
        return models.QueryResponse(points=[convert.scored_point(p) for p in points])

    def scroll(self, name: str, request: models.ScrollRequest) -> models.ScrollResult:
        """One page of points in id order (or payload order with ``order_by``)."""
        engine_request = qe.ScrollRequest(
            offset=None if request.offset is None else convert.point_id(request.offset),
            limit=10 if request.limit is None else request.limit, filter=convert.filter_(request.filter),
            with_payload=convert.with_payload(request.with_payload, True),
            with_vector=convert.with_vector(request.with_vector, False), order_by=convert.order_by(request.order_by))
        found, next_offset = self._get(name).read(lambda shard: shard.scroll(engine_request))
        return models.ScrollResult(points=[convert.record(r) for r in found],
                                   next_page_offset=None if next_offset is None else convert.rest_id(next_offset))

    def count(self, name: str, request: models.CountRequest) -> models.CountResult:
        """How many points match the filter (exact unless ``exact`` is false)."""
        engine_request = qe.CountRequest(exact=True if request.exact is None else request.exact,
                                         filter=convert.filter_(request.filter))
        return models.CountResult(count=self._get(name).read(lambda shard: shard.count(engine_request)))

    # -- monitoring --------------------------------------------------------------------------------

    def points_per_collection(self) -> dict[str, int]:
        """collection name -> points, for /metrics."""
        with self._registry:
            collections = dict(self._collections)
        counts = {}
        for name, collection in collections.items():
            try:
                counts[name] = collection.read(lambda shard: shard.info().points_count)
            except QdrantError:  # deleted meanwhile
                continue
        return counts

    def wait_idle(self, name: str, timeout_s: float) -> bool:
        """Wait until the collection has no optimization due or running (for tests and tools)."""
        return self._get(name).optimizer.wait_idle(timeout_s)

    # -- helpers -----------------------------------------------------------------------------------

    def _get(self, name: str) -> Collection:
        with self._registry:
            collection = self._collections.get(name)
        if collection is None:
            raise collection_not_found(name)
        return collection

    def _vector_of(self, collection: Collection, point: int | str, using: str | None) -> object:
        found = collection.read(lambda shard: shard.retrieve([point], with_payload=False, with_vector=True))
        if not found:
            raise QdrantError(404, f"Not found: No point with id {point} found")
        vector = found[0].vector
        if isinstance(vector, dict):
            if (using or convert.DEFAULT_VECTOR) not in vector:
                raise wrong_input(f"Not existing vector name error: {using or ''}")
            vector = vector[using or convert.DEFAULT_VECTOR]
        if isinstance(vector, qe.SparseVector):
            return models.SparseVector(indices=list(vector.indices), values=list(vector.values))
        return vector

    def _drop_missing_indexes(self, collection: Collection) -> None:
        """Under ``missing_payload_index:FIELD``, an index built before the fault was on is dropped at start."""
        existing = collection.read(lambda shard: set(shard.info().payload_schema))
        for field_name in sorted(existing & self._faults.missing_payload_indexes):
            collection.write(qe.UpdateOperation.delete_field_index(field_name))

    def _update_result(self) -> models.UpdateResult:
        return models.UpdateResult(operation_id=next(self._operation_ids), status=models.UpdateStatus.COMPLETED)


def _check_name(name: str) -> None:
    if not name or len(name) > 255 or name in (".", "..") or _FORBIDDEN_NAME.search(name):
        raise validation_error(f"[collection_name: {name!r} is not a valid collection name: 1 to 255 characters, "
                               "none of < > : \" / \\ | ? * and not . or ..]")
