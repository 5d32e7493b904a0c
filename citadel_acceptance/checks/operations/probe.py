"""Operational tools (SC4): recovery after a crash, backup and restore, audited configuration, key
lifecycle, structured logs. Each function measures; the `*_problems` functions judge."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from citadel_acceptance.checks.api import health
from citadel_acceptance.checks.database.db_errors import database_errors, said
from citadel_acceptance.errors import SuiteConfigError
from citadel_acceptance.target.data_api import IssuedKey

if TYPE_CHECKING:
    from citadel_acceptance.run.session import RunSession

COMMAND_TIMEOUT_S = 300
# Hashing a table reads all of it, and a deployment's tables may be big: each table's hash may run this long
# (PostgreSQL's statement_timeout, set for the fingerprint's own transaction only) before the check says so.
FINGERPRINT_TIMEOUT_S = 60


@dataclass
class Recovery:
    """How long a crashed part took to be healthy again, and what the health report said meanwhile."""

    service: str
    limit_s: float
    seconds: float | None = None
    observed: list[tuple[float, str]] = field(default_factory=list)


def wait_for_recovery(session: RunSession, service: str, limit_s: float) -> Recovery:
    """Poll the health report until `service` is healthy again, for at most `limit_s` seconds."""
    recovery = Recovery(service=service, limit_s=limit_s)
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < limit_s:
        ex = session.gateway.request("GET", session.profile.gateway.health_path, auth=False)
        profile = session.profile
        states = health.service_states(ex.body, profile.health, profile.routes, profile.served_ids)
        state = states.get(service, f"HTTP {ex.status}")
        if not recovery.observed or recovery.observed[-1][1] != state:
            recovery.observed.append((round(elapsed, 2), state))
        if state == "healthy" and len(recovery.observed) > 1:
            recovery.seconds = round(elapsed, 2)
            return recovery
        time.sleep(0.25)
    return recovery


@dataclass
class BackupCheck:
    """A backup made with the deployment's tool, restored into a scratch database, and compared."""

    database: str
    steps: list[str] = field(default_factory=list)
    source: dict[str, tuple[int, str]] = field(default_factory=dict)  # table -> (rows, md5 of content)
    restored: dict[str, tuple[int, str]] = field(default_factory=dict)
    error: str = ""


def _command(template: str, **values: str) -> list[str]:
    return shlex.split(template.format(python=sys.executable, **{k: shlex.quote(v) for k, v in values.items()}))


def _run(argv: list[str], check: BackupCheck) -> bool:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, env=dict(os.environ))
    except (OSError, subprocess.TimeoutExpired) as exc:  # a command that is not there, or never ends
        seen = f"it ran past {COMMAND_TIMEOUT_S} s" if isinstance(exc, subprocess.TimeoutExpired) \
            else f"it did not start ({type(exc).__name__}: {exc})"
        check.error = f"expected `{' '.join(argv[:4])} ...` to run to its end, {seen}"
        check.steps.append(f"{' '.join(argv[:4])} ... did not run to its end")
        return False
    check.steps.append(f"{' '.join(argv[:4])} ... exited {done.returncode}")
    if done.returncode != 0:
        check.error = f"`{' '.join(argv[:4])} ...` exited {done.returncode}: {(done.stderr or done.stdout).strip()[-300:]}"
    return done.returncode == 0


class BackupCheckFailed(AssertionError):
    """The backup check could not compare the databases: its verdict fails with this one sentence."""


class FingerprintTimedOut(BackupCheckFailed):
    """A table took longer than FINGERPRINT_TIMEOUT_S to hash: the backup check fails, saying which."""


def fingerprints(dsn: str) -> dict[str, tuple[int, str]]:
    """Rows and an md5 of the ordered content of every table in the public schema, each table's hash bounded by
    FINGERPRINT_TIMEOUT_S (FingerprintTimedOut names the table that took longer)."""
    found = {}
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn, conn.transaction():
        conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(f"{FINGERPRINT_TIMEOUT_S}s")))
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
        for table in tables:
            query = sql.SQL("SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {} t")
            try:
                rows, digest = conn.execute(query.format(sql.Identifier(table))).fetchone()
            except psycopg.errors.QueryCanceled:
                raise FingerprintTimedOut(
                    f"expected table {table!r} to be hashed within {FINGERPRINT_TIMEOUT_S} s (statement_timeout), it "
                    "took longer: the backup check compares whole tables, so run it on a database of a size it can "
                    "hash") from None
            found[table] = (int(rows), digest)
    return found


def backup_round_trip(session: RunSession, values: dict[str, str]) -> BackupCheck:
    """Back up with the profile's command, restore into a scratch database, compare, drop the scratch database."""
    ops = session.profile.operations
    admin_dsn = session.profile.secret("database_admin_dsn")
    check = BackupCheck(database=f"citadel_restore_{session.run_id.replace('-', '_')}"[:60])
    if not (ops.backup_command and ops.restore_command):
        check.error = "the profile names no backup or restore command: set [operations] backup_command and restore_command"
        return check
    with tempfile.TemporaryDirectory() as scratch:
        dump = str(Path(scratch) / "citadel.dump")
        fields = {**values, "file": dump, "database": check.database}
        try:
            with database_errors(admin_dsn, "to fingerprint the source database of the backup check"):
                check.source = fingerprints(admin_dsn)
            if _run(_command(ops.backup_command, **fields), check) and _run(_command(ops.restore_command, **fields), check):
                check.restored = _restored_fingerprints(admin_dsn, check.database)
        except BackupCheckFailed as exc:
            check.error = str(exc)
        finally:
            _drop_scratch(admin_dsn, check)
    return check


def _restored_fingerprints(admin_dsn: str, database: str) -> dict[str, tuple[int, str]]:
    """The restored database's fingerprints; a restore that left no database to open fails, in one sentence."""
    restored_dsn = make_conninfo(admin_dsn, dbname=database)
    with database_errors(restored_dsn, "to fingerprint the restored database of the backup check"):
        try:
            return fingerprints(restored_dsn)
        except psycopg.OperationalError as exc:  # the source answered a moment ago: the restore is the problem
            raise BackupCheckFailed(f"expected the restored database {database!r} to open after the restore "
                                    f"command succeeded, got {said(exc, admin_dsn)}") from None


def _drop_scratch(admin_dsn: str, check: BackupCheck) -> None:
    """Drop the scratch database; a failure is a note in the check's steps, never a second error."""
    try:
        with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(check.database)))
    except psycopg.Error as exc:
        check.steps.append(f"the scratch database {check.database!r} was not dropped ({said(exc, admin_dsn)}): "
                           "drop it by hand")


def backup_problems(check: BackupCheck) -> list[str]:
    """The restore worked and every table came back with the same rows and content."""
    if check.error:
        return [check.error]
    if not check.source:
        return ["no data: the source database has no table in its public schema, so a restore that brings back "
                "nothing would look identical (is database_admin_dsn the gateway's database?)"]
    if not any(rows for rows, _ in check.source.values()):
        return ["no data: every table of the source database is empty, so the round trip proves no row comes back"]
    problems = []
    for table, (rows, digest) in check.source.items():
        restored = check.restored.get(table)
        if restored is None:
            problems.append(f"table {table!r} is missing from the restored database")
        elif restored != (rows, digest):
            problems.append(f"table {table!r}: {rows} rows (md5 {digest[:8]}) before, {restored[0]} rows "
                            f"(md5 {restored[1][:8]}) restored")
    return problems


@dataclass
class ConfigChange:
    """A runtime setting changed and rolled back through the admin API, with what the audit trail says."""

    setting: str
    original: Any
    changed_to: Any
    answers: dict[str, Any] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)
    path: str = "/admin/config"  # the profile's [gateway] config_path


def change_and_roll_back(session: RunSession, setting: str, new_value: Any) -> ConfigChange:
    """Read the config, change one setting, roll back, and read the audit trail."""
    gw = session.gateway
    path = session.profile.gateway.config_path
    current = gw.request("GET", path)
    original = _mapping(_mapping(current.body).get("settings")).get(setting)
    change = ConfigChange(setting=setting, original=original, changed_to=new_value, path=path)
    change.answers["change"] = gw.request("PUT", path, {setting: new_value}).as_dict()
    change.answers["rollback"] = gw.request("POST", f"{path}/rollback").as_dict()
    change.answers["after"] = gw.request("GET", path).as_dict()
    trail = gw.request("GET", f"{session.profile.gateway.audit_path}?limit=20")
    change.audit = _rows(_mapping(trail.body).get("data"))
    return change


def _mapping(value: Any) -> dict[str, Any]:
    """`value` where an answer holds a JSON object, else {}: a foreign answer (a list, a string) reads as empty."""
    return value if isinstance(value, dict) else {}


def _rows(value: Any) -> list[dict[str, Any]]:
    """The JSON objects of a list an answer holds (none where it holds something else)."""
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def audit_problems(change: ConfigChange) -> list[str]:
    """The change answered 200 and is in the audit trail with its before and after values."""
    answer = change.answers["change"]
    if answer["status"] != 200:
        return [f"expected 200 from PUT {change.path}, got {answer['status']}: {answer['response_body']}"]
    for row in change.audit:
        details = _mapping(row.get("details"))
        if row.get("action") == "config.change" and _mapping(details.get("after")).get(change.setting) == change.changed_to:
            before = _mapping(details.get("before")).get(change.setting)
            return [] if before == change.original else [f"the audit row records {before!r} before, not {change.original!r}"]
    return [f"no audit row records the change of {change.setting} to {change.changed_to!r} "
            f"(newest actions: {[r.get('action') for r in change.audit[:5]]})"]


def rollback_problems(change: ConfigChange) -> list[str]:
    """The rollback answered 200, restored the original value, and is itself audited."""
    answer, after = change.answers["rollback"], change.answers["after"]
    if answer["status"] != 200:
        return [f"expected 200 from POST {change.path}/rollback, got {answer['status']}: {answer['response_body']}"]
    problems = []
    value = _mapping(_mapping(after.get("response_body")).get("settings")).get(change.setting)
    if value != change.original:
        problems.append(f"after the rollback {change.setting} is {value!r}, expected the original {change.original!r}")
    if not any(r.get("action") == "config.rollback" for r in change.audit):
        problems.append("the rollback left no audit row")
    return problems


@dataclass
class KeyLifecycle:
    """Statuses of requests with a key through its life: issued, listed, rotated, revoked."""

    listed: bool = False
    statuses: dict[str, int] = field(default_factory=dict)


def key_lifecycle(session: RunSession, key: IssuedKey) -> KeyLifecycle:
    """List the key, rotate it (old and new value tried), revoke it (new value tried again)."""
    gw, path = session.gateway, session.profile.gateway.planned_models_path
    life = KeyLifecycle()
    listing = gw.request("GET", session.profile.gateway.admin_keys_path)
    life.listed = any(k.get("id") == key.id for k in _rows(_mapping(listing.body).get("data")))
    life.statuses["issued key"] = gw.request("GET", path, auth=key.authorization).status
    rotated = gw.request("POST", f"{session.profile.gateway.admin_keys_path}/{key.id}/rotate")
    new_value = str(rotated.body.pop("key", "") or "") if isinstance(rotated.body, dict) else ""
    session.redactor.add(new_value)
    life.statuses["rotate"] = rotated.status
    life.statuses["old value after rotation"] = gw.request("GET", path, auth=key.authorization).status
    life.statuses["new value after rotation"] = gw.request("GET", path, auth=f"Bearer {new_value}").status
    life.statuses["revoke"] = gw.request("DELETE", f"{session.profile.gateway.admin_keys_path}/{key.id}").status
    life.statuses["new value after revocation"] = gw.request("GET", path, auth=f"Bearer {new_value}").status
    return life


EXPECTED_LIFECYCLE = {"issued key": 200, "rotate": 200, "old value after rotation": 401,
                      "new value after rotation": 200, "revoke": 200, "new value after revocation": 401}


def lifecycle_problems(life: KeyLifecycle) -> list[str]:
    """Every step answered as a key's life requires, and the key was listed."""
    problems = [] if life.listed else ["the new key is not in the operators' key list"]
    return problems + [f"{step}: expected {expected}, got {life.statuses.get(step)}"
                       for step, expected in EXPECTED_LIFECYCLE.items() if life.statuses.get(step) != expected]


def log_lines_for(log_path: Path, request_id: str, wait_s: float = 3.0) -> tuple[list[str], list[dict[str, Any]]]:
    """(every line that mentions the request id, those lines parsed as JSON objects), waiting for the write."""
    if not log_path.is_file():
        raise SuiteConfigError(f"expected the gateway's log file at {str(log_path)!r} (profile key "
                               "operations.gateway_log), there is none: set operations.gateway_log to the file the "
                               "gateway writes its JSON log lines to")
    deadline = time.monotonic() + wait_s
    while True:
        lines = [line for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines() if request_id in line]
        if lines or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    parsed = []
    for line in lines:
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            parsed.append(value)
    return lines, parsed


def structured_log_problems(request_id: str, lines: list[str], parsed: list[dict[str, Any]]) -> list[str]:
    """A JSON line carries the request id of the answer, with time, level, method, path and status."""
    if not lines:
        return [f"no log line carries the request id {request_id} that the response header gave back"]
    problems = [] if len(parsed) == len(lines) else [f"{len(lines) - len(parsed)} line(s) are not JSON objects"]
    line = next((p for p in parsed if p.get("request_id") == request_id), None)
    if line is None:
        return problems + [f"no JSON line has request_id == {request_id}"]
    missing = [k for k in ("ts", "level", "method", "path", "status_code") if k not in line]
    return problems + ([f"the line lacks {missing}"] if missing else [])
