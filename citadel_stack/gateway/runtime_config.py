"""Runtime settings operators change through the admin API, versioned, audited and reversible."""
from __future__ import annotations

import json
from typing import Any

from psycopg_pool import AsyncConnectionPool

DEFAULTS: dict[str, Any] = {"max_tokens_cap": 4096, "health_timeout_s": 2.0, "rate_limit_per_minute": 100}
RANGES: dict[str, tuple[float, float]] = {"max_tokens_cap": (1, 32768), "health_timeout_s": (0.1, 30.0),
                                          "rate_limit_per_minute": (1, 100000)}


def validate(changes: Any) -> dict[str, Any]:
    """Known settings within their ranges; ValueError naming the first problem."""
    if not isinstance(changes, dict) or not changes:
        raise ValueError("send an object of setting -> value")
    for name, value in changes.items():
        if name not in RANGES:
            raise ValueError(f"unknown setting {name!r}; settings: {', '.join(sorted(RANGES))}")
        low, high = RANGES[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise ValueError(f"{name} must be a number within {low:g}-{high:g}, got {value!r}")
    return changes


class RuntimeConfig:
    """The current settings (cached in memory) and their history in PostgreSQL."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool
        self.current: dict[str, Any] = dict(DEFAULTS)
        self.version = 0

    async def load(self) -> None:
        """Read the latest version (the defaults when none was saved)."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute("SELECT version, settings FROM runtime_config ORDER BY version DESC LIMIT 1")
            row = await cursor.fetchone()
        if row:
            self.version, self.current = row[0], {**DEFAULTS, **row[1]}

    async def save(self, settings: dict[str, Any], actor: str) -> int:
        """Store a new version and make it current."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute("INSERT INTO runtime_config (settings, actor) VALUES (%s, %s) RETURNING version",
                                        (json.dumps(settings), actor))
            self.version = (await cursor.fetchone())[0]
        self.current = dict(settings)
        return self.version

    async def previous(self) -> dict[str, Any] | None:
        """The settings of the version before the current one, or None when there is none."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute("SELECT settings FROM runtime_config WHERE version < %s ORDER BY version DESC"
                                        " LIMIT 1", (self.version,))
            row = await cursor.fetchone()
        return {**DEFAULTS, **row[0]} if row else (dict(DEFAULTS) if self.version else None)
