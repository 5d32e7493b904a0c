"""Searches (query API and legacy search) with the search faults applied.

The engine answers as Qdrant does: with the collection's HNSW index where one is built, exactly with
``params.exact``. ``ignore_filter`` drops the filter and ``slow_search`` delays every search;
``degrade_ann`` acts on the index the engine builds (``settings.degraded``), not here.
"""

from __future__ import annotations

import asyncio
from typing import List, Optional, Union

from pydantic import BaseModel
from qdrant_client.http import models
from starlette.concurrency import run_in_threadpool

from citadel_stack.faults import IGNORE_FILTER

from .engine import VectorEngine
from .errors import validation_error
from .faults import FaultSet


class NamedVector(BaseModel, extra="forbid"):
    """``{"name": ..., "vector": [...]}``: a search against one named vector of the collection."""

    name: str
    vector: List[float]


class LegacySearchRequest(BaseModel, extra="forbid"):
    """Body of ``POST /collections/{c}/points/search`` (Qdrant's pre-query-API search).

    qdrant-client 1.20 no longer sends it, so ``qdrant_client.http.models`` has no model for it; the
    fields are Qdrant's, typed with that module's models.
    """

    vector: Union[List[float], NamedVector]
    filter: Optional[models.Filter] = None
    params: Optional[models.SearchParams] = None
    limit: int
    offset: Optional[int] = None
    with_payload: Optional[models.WithPayloadInterface] = None
    with_vector: Optional[models.WithVector] = None
    score_threshold: Optional[float] = None
    shard_key: Optional[models.ShardKeySelector] = None

    def as_query(self) -> models.QueryRequest:
        """The same search expressed for the query API."""
        named = isinstance(self.vector, NamedVector)
        return models.QueryRequest(
            query=self.vector.vector if isinstance(self.vector, NamedVector) else self.vector,
            using=self.vector.name if named else None, filter=self.filter, params=self.params,
            limit=self.limit, offset=self.offset, with_payload=self.with_payload, with_vector=self.with_vector,
            score_threshold=self.score_threshold,
        )


class SearchRunner:
    """Runs searches on the engine (in a worker thread), honouring the search faults."""

    def __init__(self, engine: VectorEngine, faults: FaultSet) -> None:
        self.engine = engine
        self.faults = faults

    async def query(self, collection: str, request: models.QueryRequest) -> models.QueryResponse:
        """Answer one query-API request."""
        _validate_paging(request)
        if self.faults.search_delay_s:
            await asyncio.sleep(self.faults.search_delay_s)
        if IGNORE_FILTER in self.faults:
            request = request.model_copy(update={"filter": None})
        return await run_in_threadpool(self.engine.query, collection, request)

    async def search(self, collection: str, request: LegacySearchRequest) -> list[models.ScoredPoint]:
        """Answer one legacy search request."""
        return (await self.query(collection, request.as_query())).points


def _validate_paging(request: models.QueryRequest) -> None:
    if request.limit is not None and request.limit < 1:
        raise validation_error(f"[limit: value {request.limit} invalid, must be 1 or larger]")
    if request.offset is not None and request.offset < 0:
        raise validation_error(f"[offset: value {request.offset} invalid, must be 0 or larger]")
