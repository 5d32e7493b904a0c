"""PostgreSQL: migrations (as the owner role), the app's connection pool, key lookup and the request log."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg_pool import AsyncConnectionPool

from .health import HEALTHY, UNHEALTHY, UNREACHABLE, ServiceProbe

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Any constant works; it keeps two gateways starting together from migrating at the same time.
MIGRATION_LOCK_ID = 0x0C17ADE1


@dataclass(frozen=True)
class Migration:
    """One numbered SQL file."""

    version: str
    path: Path


@dataclass(frozen=True)
class ApiKey:
    """A key found in ``api_keys`` (its hash is never kept beyond the lookup)."""

    id: int | None
    name: str
    role: str
    owner: str = ""


@dataclass(frozen=True)
class RequestRecord:
    """One row of ``request_log``."""

    request_id: str
    api_key_id: int | None
    method: str
    path: str
    model: str | None
    status_code: int
    duration_ms: float


def discover_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in version order; a badly named .sql file or a duplicate version raises ValueError."""
    migrations: dict[str, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = MIGRATION_NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file {path.name!r} is not named NNNN_lowercase_words.sql")
        version = match.group(1)
        if version in migrations:
            raise ValueError(f"two migrations with version {version}: {migrations[version].path.name}, {path.name}")
        migrations[version] = Migration(version, path)
    return [migrations[v] for v in sorted(migrations)]


async def apply_migrations(dsn: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the not-yet-applied migrations in order, each in its own transaction; return their versions."""
    applied_now: list[str] = []
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_ID,))
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            await conn.execute("GRANT SELECT ON schema_migrations TO citadel_app")
            cursor = await conn.execute("SELECT version FROM schema_migrations")
            done = {row[0] for row in await cursor.fetchall()}
            for migration in discover_migrations(directory):
                if migration.version in done:
                    continue
                sql = migration.path.read_text(encoding="utf-8")
                async with conn.transaction():
                    await conn.execute(sql.encode("utf-8"))
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, applied_at) VALUES (%s, now())", (migration.version,)
                    )
                applied_now.append(migration.version)
                log.info("applied migration %s", migration.path.name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_ID,))
    return applied_now


class Database:
    """The app's pool (role ``citadel_app``) and the queries the gateway makes."""

    def __init__(self, dsn: str, min_size: int = 2, max_size: int = 20, slow_query_s: float = 0.0,
                 enforce_revocation: bool = True) -> None:
        self.slow_query_s = slow_query_s  # fault slow_query (self-test only)
        self._revoked_clause = " AND revoked_at IS NULL" if enforce_revocation else ""  # fault revoke_not_enforced
        self.pool = AsyncConnectionPool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            open=False,
            timeout=10.0,
            kwargs={"autocommit": True, "connect_timeout": 10},
        )

    async def open(self) -> None:
        """Open the pool and wait until its first connections work."""
        await self.pool.open(wait=True, timeout=30.0)

    async def close(self) -> None:
        """Close every connection."""
        await self.pool.close()

    async def ensure_admin_key(self, key_sha256: str, name: str = "bootstrap-admin") -> None:
        """Insert the bootstrap admin key's hash unless it is there already."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO api_keys (name, key_sha256, role, owner) VALUES (%s, %s, 'admin', %s)"
                " ON CONFLICT (key_sha256) DO NOTHING",
                (name, key_sha256, name),
            )

    async def find_active_key(self, key_sha256: str) -> ApiKey | None:
        """The non-revoked key with this hash, or None."""
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT id, name, role, owner FROM api_keys WHERE key_sha256 = %s" + self._revoked_clause,
                (key_sha256,),
            )
            row = await cursor.fetchone()
        return ApiKey(id=row[0], name=row[1], role=row[2], owner=row[3]) if row else None

    async def log_request(self, record: RequestRecord) -> None:
        """Write one ``request_log`` row."""
        async with self.pool.connection() as conn:
            if self.slow_query_s:
                await conn.execute("SELECT pg_sleep(%s)", (self.slow_query_s,))
            await conn.execute(
                "INSERT INTO request_log (request_id, api_key_id, method, path, model, status_code, duration_ms)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    record.request_id,
                    record.api_key_id,
                    record.method,
                    record.path,
                    record.model,
                    record.status_code,
                    record.duration_ms,
                ),
            )

    async def probe(self, timeout_s: float) -> ServiceProbe:
        """``SELECT 1`` through the pool, within ``timeout_s``."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout_s):
                async with self.pool.connection(timeout=timeout_s) as conn:
                    await conn.execute("SELECT 1")
        except (TimeoutError, asyncio.TimeoutError):
            return ServiceProbe(UNREACHABLE, _ms_since(started), f"no answer within {timeout_s} s", url_checked="SELECT 1")
        except psycopg.Error as exc:
            # The message may name host and port but never the password; keep only the class.
            return ServiceProbe(UNHEALTHY, _ms_since(started), f"query failed ({type(exc).__name__})", url_checked="SELECT 1")
        return ServiceProbe(HEALTHY, _ms_since(started), "SELECT 1 answered", url_checked="SELECT 1")


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
