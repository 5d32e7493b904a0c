"""Verdicts of the database gates (T2-005), built from database_probe measurements."""
from __future__ import annotations

from typing import Any

from citadel_acceptance.checks.database import probe as database_probe
from citadel_acceptance.checks.percentiles import percentile_verdict
from citadel_acceptance.load.metrics import nearest_rank
from citadel_acceptance.config.thresholds import Gate
from citadel_acceptance.verdict import Verdict


def schema_verdict(objects: database_probe.SchemaObjects, expected: dict[str, list[str]]) -> Verdict:
    """Every expected table, index and constraint exists."""
    have = {"tables": objects.tables, "indexes": objects.indexes, "constraints": objects.constraints}
    singular = {"tables": "table", "indexes": "index", "constraints": "constraint"}
    problems = [f"missing {singular[kind]} {name!r}" for kind, names in expected.items() for name in names
                if name not in have[kind]]
    return Verdict.from_problems("schema objects", problems, "expected ⊆ pg_tables ∪ pg_indexes ∪ pg_constraint",
                                 "the public schema", **{k: len(v) for k, v in expected.items()})


def plans_verdict(checks: list[database_probe.PlanCheck]) -> Verdict:
    """No critical query scans a big table sequentially even with sequential scans discouraged."""
    problems = [f"query {c.name!r} scans {', '.join(sorted(set(c.seq_scanned)))} sequentially: no usable index"
                for c in checks if c.seq_scanned]
    if not checks:
        problems = ["no data: no critical query was checked (the profile names none in [database] critical_queries)"]
    return Verdict.from_problems("critical queries use indexes", problems,
                                 "EXPLAIN with enable_seqscan=off shows no Seq Scan on a big table", "the database")


def latency_verdict(gate: Gate, samples: dict[str, list[float]], confidence: float) -> Verdict:
    """p95 over every run of every critical query, at `confidence`, against the target."""
    every = [ms for runs in samples.values() for ms in runs]
    worst = max(samples, key=lambda name: nearest_rank(samples[name], 95).value or 0) if samples else ""
    verdict = percentile_verdict(gate, every, confidence, "critical query p95",
                                 "p95 of the execution time of every run of every critical query")
    verdict.details["slowest_query"] = worst
    return verdict


def burst_verdict(burst: database_probe.ConnectionBurst, gate: Gate) -> Verdict:
    """Every one of the target's connections was served."""
    verdict = gate.check(burst.succeeded, "concurrent connections served",
                         "connections opened at once that ran SELECT 1 while all were open")
    if burst.errors:
        verdict = Verdict(**{**verdict.__dict__, "explanation": verdict.explanation + f"; errors: {burst.errors[:3]}"})
    return verdict


def release_verdict(burst: database_probe.ConnectionBurst) -> Verdict:
    """Once closed, the server's connection count is back at its baseline."""
    passed = burst.after <= burst.baseline
    return Verdict(name="connections released", passed=passed, measured=burst.after, formula=
                   "connections of the role in pg_stat_activity after the burst ≤ before it",
                   explanation=f"connections of the application role: {burst.baseline} before, {burst.peak} at the "
                               f"peak, {burst.after} after; expected ≤ {burst.baseline} after")


def slow_statements_verdict(statements: list[dict[str, Any]], gate: Gate) -> Verdict:
    """No statement of the application role averages more than the target."""
    worst = statements[0]["mean_ms"] if statements else 0.0
    verdict = gate.check(worst, "slowest statement mean", "max over statements of pg_stat_statements.mean_exec_time")
    verdict.details["slow_statements"] = statements
    return verdict


def lifecycle_verdict(left: int, retention_days: int, answer_status: int) -> Verdict:
    """After the job ran, no request-log row is older than the retention."""
    problems = [] if answer_status == 200 else [f"expected 200 from the lifecycle job, got {answer_status}"]
    if left:
        problems.append(f"{left} request-log rows are older than {retention_days} days")
    return Verdict.from_problems("data lifecycle", problems, "count(created_at < now() - retention) == 0", "request_log")


def ddl_verdict(error: str | None) -> Verdict:
    """The application role's CREATE TABLE was refused for lack of privilege."""
    problems = [] if error == "InsufficientPrivilege" else [
        "expected CREATE TABLE to be refused with InsufficientPrivilege, it " +
        ("succeeded (rolled back)" if error is None else f"failed otherwise: {error}")]
    return Verdict.from_problems("application role cannot change the schema", problems,
                                 "CREATE TABLE as the application role → InsufficientPrivilege", "the database")
