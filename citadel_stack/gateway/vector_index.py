"""The document vectors in Qdrant, reached with qdrant-client as any Qdrant is reached."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Mapping

from qdrant_client import AsyncQdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

from .config import VectorStoreConfig
from .errors import GatewayError

PAYLOAD_INDEXES = ("owner", "document_id", "run_id")


class VectorStoreUnavailable(GatewayError):
    """503: the vector store did not answer or refused; chat without retrieval is unaffected."""

    def __init__(self, action: str, exc: Exception) -> None:
        super().__init__(503, f"the vector store is unavailable ({action} failed: {type(exc).__name__}); "
                              "retrieval and document storage are paused, chat without retrieval still works",
                         type="service_unavailable")


@dataclass(frozen=True)
class Hit:
    """One retrieved document."""

    document_id: str
    score: float
    payload: dict[str, Any]


class VectorIndex:
    """Create the collection, upsert, search with the owner and metadata filters, delete."""

    def __init__(self, config: VectorStoreConfig, vector_size: int | None = None, ignore_filter: bool = False) -> None:
        self.config = config
        self.vector_size = vector_size or config.vector_size  # fault wrong_vector_size changes it
        self._ignore_filter = ignore_filter  # fault retrieval_ignores_filter
        self._client = AsyncQdrantClient(url=config.url, api_key=config.api_key, timeout=5,
                                         check_compatibility=False, https=config.url.startswith("https"))
        self._ready = False

    async def aclose(self) -> None:
        """Close the client."""
        await self._client.close()

    async def ensure_collection(self) -> None:
        """Create the collection (cosine, the configured size) and its payload indexes if missing."""
        if self._ready:
            return
        name = self.config.collection
        try:
            if not await self._client.collection_exists(name):
                await self._client.create_collection(
                    name, vectors_config=models.VectorParams(size=self.vector_size, distance=models.Distance.COSINE))
                for field in PAYLOAD_INDEXES:
                    await self._client.create_payload_index(name, field, models.PayloadSchemaType.KEYWORD)
        except Exception as exc:  # transport errors and Qdrant refusals alike
            raise VectorStoreUnavailable("creating the collection", exc) from exc
        self._ready = True

    async def _call(self, action: str, operation: Callable[[], Awaitable[Any]]) -> Any:
        """Run an operation on the collection; a vector store restarted empty gets its collection back once."""
        await self.ensure_collection()
        try:
            return await operation()
        except UnexpectedResponse as exc:
            if exc.status_code in (400, 422):
                raise GatewayError(502, f"the vector store refused {action}: {exc.content[:300]!r}",
                                   type="bad_gateway") from exc
            if exc.status_code != 404:
                raise VectorStoreUnavailable(action, exc) from exc
        except Exception as exc:
            raise VectorStoreUnavailable(action, exc) from exc
        self._ready = False  # the collection is gone (the store restarted without its data): create it again
        await self.ensure_collection()
        try:
            return await operation()
        except Exception as exc:
            raise VectorStoreUnavailable(action, exc) from exc

    async def upsert(self, point_id: str, vector: list[float], payload: Mapping[str, Any]) -> None:
        """Store one document vector (waits until it is searchable)."""
        await self._call("storing the document vector", lambda: self._client.upsert(
            self.config.collection, wait=True, points=[models.PointStruct(id=point_id, vector=vector, payload=dict(payload))]))

    async def search(self, vector: list[float], owner: str | None, metadata: Mapping[str, Any], top_k: int) -> list[Hit]:
        """The owner's nearest documents whose metadata matches every given key (owner None: every owner's)."""
        conditions = [models.FieldCondition(key="owner", match=models.MatchValue(value=owner))] if owner else []
        if not self._ignore_filter:
            conditions += [models.FieldCondition(key=f"metadata.{k}", match=models.MatchValue(value=v))
                           for k, v in metadata.items()]
        answer = await self._call("searching", lambda: self._client.query_points(
            self.config.collection, query=vector, limit=top_k, query_filter=models.Filter(must=conditions),
            with_payload=True))
        return [Hit(str(p.payload.get("document_id", p.id)), float(p.score), dict(p.payload or {})) for p in answer.points]

    async def delete(self, point_id: str) -> None:
        """Remove one document vector."""
        await self._call("deleting the document vector", lambda: self._client.delete(
            self.config.collection, points_selector=models.PointIdsList(points=[point_id]), wait=True))
