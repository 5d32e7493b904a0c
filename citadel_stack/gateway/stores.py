"""SQL of the admin API and the documents: keys, documents, and the data-lifecycle job."""
from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from .auth import key_sha256

KEY_PREFIX = "ctk_"


@dataclass(frozen=True)
class NewKey:
    """A key just created: the only moment its clear value exists outside the client."""

    id: int
    key: str
    name: str
    role: str
    owner: str


class KeyAdmin:
    """Create, list, revoke and purge API keys."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def create(self, name: str, role: str, owner: str, run_id: str | None) -> NewKey:
        """A fresh random key; only its sha256 is stored."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "INSERT INTO api_keys (name, key_sha256, role, owner, run_id) VALUES (%s, %s, %s, %s, %s) RETURNING id",
                (name, key_sha256(key), role, owner, run_id))
            row = await cursor.fetchone()
        return NewKey(id=row[0], key=key, name=name, role=role, owner=owner)

    async def list(self) -> list[dict[str, Any]]:
        """Every key without its hash."""
        async with self._pool.connection() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            await cursor.execute("SELECT id, name, role, owner, run_id, created_at, revoked_at FROM api_keys ORDER BY id")
            rows = await cursor.fetchall()
        return [{**r, "created_at": _iso(r["created_at"]), "revoked_at": _iso(r["revoked_at"])} for r in rows]

    async def rotate(self, key_id: int) -> NewKey | None:
        """A new value for an active key (same id, role and owner); the old value stops working at once."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "UPDATE api_keys SET key_sha256 = %s WHERE id = %s AND revoked_at IS NULL RETURNING id, name, role, owner",
                (key_sha256(key), key_id))
            row = await cursor.fetchone()
        return NewKey(id=row[0], key=key, name=row[1], role=row[2], owner=row[3]) if row else None

    async def revoke(self, key_id: int, purge: bool) -> bool:
        """Revoke (or delete, with purge) a key; False when there is no such key."""
        sql = ("DELETE FROM api_keys WHERE id = %s" if purge
               else "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = %s")
        async with self._pool.connection() as conn:
            cursor = await conn.execute(sql, (key_id,))
        return cursor.rowcount > 0


class DocumentStore:
    """Documents, always scoped to their owner."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def insert(self, owner: str, title: str, content: str, metadata: dict[str, Any]) -> dict[str, Any]:
        """Store a document row and return it."""
        doc_id = uuid.uuid4()
        run_id = metadata.get("run_id") if isinstance(metadata.get("run_id"), str) else None
        async with self._pool.connection() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            await cursor.execute(
                "INSERT INTO documents (id, owner, title, content, metadata, run_id) VALUES (%s, %s, %s, %s, %s, %s)"
                " RETURNING id, owner, title, metadata, created_at",
                (doc_id, owner, title, content, json.dumps(metadata), run_id))
            return _document(await cursor.fetchone())

    async def get(self, owner: str, doc_id: uuid.UUID) -> dict[str, Any] | None:
        """The owner's document, or None (another owner's document is not found either)."""
        async with self._pool.connection() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            await cursor.execute("SELECT id, owner, title, metadata, created_at FROM documents WHERE id = %s AND owner = %s",
                                 (doc_id, owner))
            row = await cursor.fetchone()
        return _document(row) if row else None

    async def list(self, owner: str, limit: int = 100) -> list[dict[str, Any]]:
        """The owner's newest documents."""
        async with self._pool.connection() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            await cursor.execute("SELECT id, owner, title, metadata, created_at FROM documents WHERE owner = %s"
                                 " ORDER BY created_at DESC LIMIT %s", (owner, limit))
            return [_document(r) for r in await cursor.fetchall()]

    async def delete(self, owner: str, doc_id: uuid.UUID) -> bool:
        """Delete the owner's document row; False when the owner has no such document."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute("DELETE FROM documents WHERE id = %s AND owner = %s", (doc_id, owner))
        return cursor.rowcount > 0


async def run_lifecycle(pool: AsyncConnectionPool, retention_days: int) -> dict[str, int]:
    """Delete request-log rows older than the retention; returns the rows deleted per table."""
    async with pool.connection() as conn:
        cursor = await conn.execute(
            "DELETE FROM request_log WHERE created_at < now() - make_interval(days => %s)", (retention_days,))
    return {"request_log": cursor.rowcount}


def _document(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(row["id"]), "object": "document", "owner": row["owner"], "title": row["title"],
            "metadata": row["metadata"], "created_at": _iso(row["created_at"])}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
