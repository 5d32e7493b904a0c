"""The audit trail: append-only, hash-chained rows of who changed what, and its verification."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

GENESIS = "0" * 64
AUDIT_LOCK_ID = 0x0A0D17


def row_hash(prev_hash: str, actor: str, action: str, target: str, details: Any) -> str:
    """sha256 over the previous hash and this row's content (canonical JSON)."""
    content = json.dumps({"prev": prev_hash, "actor": actor, "action": action, "target": target, "details": details},
                         sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


class AuditTrail:
    """Appends rows under an advisory lock, so that the chain stays linear with many writers."""

    def __init__(self, pool: AsyncConnectionPool, enabled: bool = True, chained: bool = True) -> None:
        self._pool = pool
        self._enabled = enabled  # fault config_not_audited (self-test only)
        self._chained = chained  # fault audit_chain_broken (self-test only)

    async def append(self, actor: str, action: str, target: str, details: dict[str, Any]) -> None:
        """One row chained to the last one."""
        if not self._enabled:
            return
        async with self._pool.connection() as conn:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (AUDIT_LOCK_ID,))
                cursor = await conn.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
                last = await cursor.fetchone()
                prev = last[0] if last else GENESIS
                if not self._chained:
                    import secrets

                    prev = secrets.token_hex(32)
                await conn.execute(
                    "INSERT INTO audit_log (actor, action, target, details, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s)",
                    (actor, action, target, json.dumps(details), prev, row_hash(prev, actor, action, target, details)))

    async def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest rows, newest first."""
        async with self._pool.connection() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            await cursor.execute("SELECT id, at, actor, action, target, details, prev_hash, hash FROM audit_log"
                                 " ORDER BY id DESC LIMIT %s", (limit,))
            rows = await cursor.fetchall()
        return [{**r, "at": r["at"].isoformat()} for r in rows]
