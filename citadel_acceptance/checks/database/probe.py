"""PostgreSQL as the suite sees it through the application's own DSN: schema, plans, timings, pool, roles.

Every call has a connect timeout; nothing here changes the product's data except the aged request-log
rows the lifecycle check inserts (tagged with the run id) and what the lifecycle job then deletes. Each probe says
what psycopg raised in one sentence (`db_errors`): a missing table fails, an unreachable server is not ready.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

import psycopg
from psycopg import sql

from citadel_acceptance.checks.database.db_errors import stated

CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True)
class SchemaObjects:
    """Names of the tables, indexes and constraints in the public schema."""

    tables: frozenset[str]
    indexes: frozenset[str]
    constraints: frozenset[str]


@dataclass
class PlanCheck:
    """The plan of one query with sequential scans discouraged, and the big tables it still scans."""

    name: str
    plan: Any
    seq_scanned: list[str] = field(default_factory=list)
    index_nodes: list[str] = field(default_factory=list)


@dataclass
class ConnectionBurst:
    """Opening many connections at once: how many worked, how long, and the server's count before and after."""

    requested: int
    succeeded: int
    errors: list[str]
    seconds: float
    baseline: int
    peak: int
    after: int


def connect(dsn: str) -> psycopg.Connection:
    """A connection with a timeout (autocommit)."""
    return psycopg.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)


@stated("to read the schema")
def schema_objects(dsn: str) -> SchemaObjects:
    """What the public schema holds."""
    with connect(dsn) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
        constraints = {r[0] for r in conn.execute(
            "SELECT c.conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'")}
    return SchemaObjects(frozenset(tables), frozenset(indexes), frozenset(constraints))


@stated("to examine the plan of a critical query")
def check_plan(dsn: str, name: str, query: str, big_tables: Iterable[str]) -> PlanCheck:
    """EXPLAIN the query with `enable_seqscan = off`: a big table still scanned sequentially has no usable index.

    On a small table PostgreSQL rightly prefers a sequential scan; discouraging it shows whether an index
    *could* serve the query, which is what matters once the table is big.
    """
    with connect(dsn) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) ") + sql.SQL(query)).fetchone()[0]
    check = PlanCheck(name=name, plan=plan)
    big = set(big_tables)
    for node in _plan_nodes(plan[0]["Plan"] if isinstance(plan, list) else plan):
        relation = node.get("Relation Name")
        if node.get("Node Type") == "Seq Scan" and relation in big:
            check.seq_scanned.append(relation)
        elif "Index" in node.get("Node Type", ""):
            check.index_nodes.append(f"{node['Node Type']} on {relation or '?'} using {node.get('Index Name', '?')}")
    return check


def _plan_nodes(node: dict[str, Any]) -> Iterable[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


@stated("to time the critical queries")
def time_queries(dsn: str, queries: dict[str, str], concurrency: int, repetitions: int) -> dict[str, list[float]]:
    """Milliseconds of each run of each query, `concurrency` connections running at once."""
    return asyncio.run(_time_queries(dsn, queries, concurrency, repetitions))


async def _time_queries(dsn: str, queries: dict[str, str], concurrency: int, repetitions: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in queries}

    async def worker() -> None:
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            for _ in range(repetitions):
                for name, query in queries.items():
                    started = time.perf_counter()
                    cursor = await conn.execute(sql.SQL(query))
                    await cursor.fetchall()
                    samples[name].append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return samples


@stated("to count the role's connections")
def connection_count(dsn: str) -> int:
    """Connections of the DSN's role that the server holds now (this one excluded)."""
    with connect(dsn) as conn:
        return int(conn.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = current_user"
                                " AND pid <> pg_backend_pid()").fetchone()[0])


@stated("to open a burst of connections")
def connection_burst(dsn: str, count: int, settle_s: float = 5.0) -> ConnectionBurst:
    """Open `count` connections at once, run a query on each while all are open, close them, and count again."""
    baseline = connection_count(dsn)
    started = time.perf_counter()
    succeeded, errors, peak = asyncio.run(_burst(dsn, count))
    seconds = time.perf_counter() - started
    deadline = time.monotonic() + settle_s
    after = connection_count(dsn)
    while after > baseline and time.monotonic() < deadline:
        time.sleep(0.2)
        after = connection_count(dsn)
    return ConnectionBurst(count, succeeded, errors, seconds, baseline, peak, after)


async def _burst(dsn: str, count: int) -> tuple[int, list[str], int]:
    async def one() -> psycopg.AsyncConnection:
        conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        await conn.execute("SELECT 1")
        return conn

    results = await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)
    opened = [r for r in results if isinstance(r, psycopg.AsyncConnection)]
    errors = sorted({f"{type(r).__name__}: {str(r).strip().splitlines()[0][:160]}" for r in results
                     if isinstance(r, BaseException)})
    peak = 0
    if opened:
        cursor = await opened[0].execute("SELECT count(*) FROM pg_stat_activity WHERE usename = current_user")
        peak = int((await cursor.fetchone())[0])
    for conn in opened:
        await conn.close()
    return len(opened), errors, peak


@stated("to read pg_stat_statements")
def slow_statements(dsn: str, threshold_ms: float, limit: int = 10) -> tuple[bool, list[dict[str, Any]]]:
    """(available, statements of this role whose mean time exceeds the threshold) from pg_stat_statements."""
    with connect(dsn) as conn:
        present = conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'").fetchone()[0]
        if not present:
            return False, []
        rows = conn.execute(
            "SELECT query, calls, round(mean_exec_time::numeric, 2), round(max_exec_time::numeric, 2)"
            " FROM pg_stat_statements WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
            " AND calls > 0 AND mean_exec_time > %s AND query NOT ILIKE 'EXPLAIN%%'"
            " ORDER BY mean_exec_time DESC LIMIT %s", (threshold_ms, limit)).fetchall()
    return True, [{"query": r[0][:300], "calls": r[1], "mean_ms": float(r[2]), "max_ms": float(r[3])} for r in rows]


@stated("to try CREATE TABLE as the application's role")
def ddl_attempt(dsn: str, run_id: str) -> str | None:
    """Try CREATE TABLE as the application role; the error class name, or None when it was allowed.

    The attempt runs in a transaction that is always rolled back, so nothing stays behind.
    """
    table = sql.Identifier(f"suite_ddl_probe_{run_id.replace('-', '_')}"[:60])
    with psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT_S) as conn:
        try:
            conn.execute(sql.SQL("CREATE TABLE {} (x int)").format(table))
        except psycopg.Error as exc:
            return type(exc).__name__
        finally:
            conn.rollback()
    return None


@stated("to insert request-log rows older than the retention")
def insert_aged_request_rows(dsn: str, run_id: str, age_days: int, count: int) -> list[str]:
    """Request-log rows dated `age_days` ago, tagged with the run id; returns their request ids."""
    ids = [f"suite-{run_id}-aged-{i}" for i in range(count)]
    with connect(dsn) as conn:
        for request_id in ids:
            conn.execute("INSERT INTO request_log (request_id, method, path, status_code, duration_ms, created_at)"
                         " VALUES (%s, 'GET', '/suite-aged-row', 200, 0, now() - make_interval(days => %s))",
                         (request_id, age_days))
    return ids


@stated("to delete the run's aged request-log rows")
def delete_aged_request_rows(dsn: str, run_id: str) -> int:
    """Remove the aged rows this run inserted (when the lifecycle job did not); 0 where the table is missing, since
    no row could be inserted into it."""
    with connect(dsn) as conn:
        try:
            deleted = conn.execute("DELETE FROM request_log WHERE request_id LIKE %s", (f"suite-{run_id}-aged-%",))
            return deleted.rowcount
        except psycopg.errors.UndefinedTable:
            return 0


@stated("to count rows older than the retention")
def rows_older_than(dsn: str, table: str, days: int) -> int:
    """Rows of `table` created more than `days` days ago."""
    with connect(dsn) as conn:
        return int(conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE created_at < now() - make_interval(days => %s)")
                                .format(sql.Identifier(table)), (days,)).fetchone()[0])


@stated("to read the request-log rows of the run's requests")
def request_log_rows(dsn: str, request_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """The request-log rows of each request id."""
    ids = list(request_ids)
    found: dict[str, list[dict[str, Any]]] = {rid: [] for rid in ids}
    with connect(dsn) as conn:
        for rid, method, path, status, model in conn.execute(
                "SELECT request_id, method, path, status_code, model FROM request_log WHERE request_id = ANY(%s)", (ids,)):
            found[rid].append({"method": method, "path": path, "status_code": status, "model": model})
    return found


@stated("to count the run's keys and documents")
def run_data_counts(dsn: str, run_id: str) -> dict[str, int]:
    """Keys and documents carrying the run id (test data that must be gone after the run)."""
    with connect(dsn) as conn:
        keys = conn.execute("SELECT count(*) FROM api_keys WHERE run_id = %s", (run_id,)).fetchone()[0]
        docs = conn.execute("SELECT count(*) FROM documents WHERE run_id = %s", (run_id,)).fetchone()[0]
    return {"api_keys": int(keys), "documents": int(docs)}


def as_json(data: Any) -> str:
    """Plans and rows as indented JSON for the evidence."""
    return json.dumps(data, indent=2, default=str)
