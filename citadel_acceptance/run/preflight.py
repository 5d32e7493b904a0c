"""The pre-flight check: one cheap probe per capability, before the first scenario of every run.

Each probe asks the least that shows the capability is there (an endpoint answers with anything but 404, a table
exists, Qdrant answers with the key, Prometheus is ready, the TLS listener handshakes); none writes anything. The
findings print as one table and go into the evidence (`preflight.json`, environment.properties):
- declared and found: the scenarios run;
- declared and missing (the part answers, the capability is not there): the scenarios needing it fail at once,
  with that reason, in their first step;
- declared and unreachable (the part does not answer): they fail at once as ENVIRONMENT NOT READY;
- found but not declared: a note (the scenarios stay NOT APPLICABLE until the profile declares it);
- not probed: no cheap probe tells (streaming, the cache, the rate limit); the scenarios judge it.
GPUs, Prometheus and control keep their own reasons (their scenarios are skipped as before), so they never block.
"""
from __future__ import annotations

import json
import os
import socket
import ssl
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import httpx

from citadel_acceptance.config.capabilities import CAPABILITIES
from citadel_acceptance.report.evidence import ENVIRONMENT_NOT_READY

FOUND, MISSING, UNREACHABLE, NOT_PROBED = "found", "missing", "unreachable", "not probed"
NEVER_BLOCKS = ("gpu", "prometheus", "control")  # their scenarios keep their own skip reasons (run/hooks.py)
PROBE_TIMEOUT_S = 5.0
MISSING_CAPABILITY = "MISSING CAPABILITY"


@dataclass(frozen=True)
class Finding:
    """What the pre-flight check found for one capability."""

    capability: str
    declared: bool
    state: str  # found | missing | unreachable | not probed
    detail: str

    @property
    def blocks(self) -> bool:
        """Whether scenarios needing this capability fail at once (declared, and missing or unreachable)."""
        return self.declared and self.state in (MISSING, UNREACHABLE) and self.capability not in NEVER_BLOCKS

    def failure(self, profile: str) -> str:
        """The one sentence a blocked scenario fails with."""
        if self.state == UNREACHABLE:
            return (f"{ENVIRONMENT_NOT_READY}: capability {self.capability!r} is declared by profile {profile!r}, but "
                    f"the pre-flight check could not reach it: {self.detail}. Make it reachable, or leave it out of "
                    "[capabilities] provides")
        return (f"{MISSING_CAPABILITY}: profile {profile!r} declares {self.capability!r}, but the pre-flight check "
                f"found it missing: {self.detail}. The deployment lacks what the profile promises: fix the "
                "deployment, or leave it out of [capabilities] provides")


@dataclass
class Preflight:
    """Every capability's finding, and the table and evidence made of them."""

    profile: str
    findings: list[Finding]

    def blocking(self, needs: list[str]) -> Finding | None:
        """The first finding among `needs` that makes a scenario fail at once (None: it may run)."""
        by_name = {f.capability: f for f in self.findings}
        return next((by_name[n] for n in needs if n in by_name and by_name[n].blocks), None)

    def summary(self) -> str:
        """One line: how many capabilities were declared, found, missing, unreachable and noted."""
        declared = [f for f in self.findings if f.declared]
        count = lambda state: sum(1 for f in declared if f.state == state)  # noqa: E731
        notes = sum(1 for f in self.findings if not f.declared and f.state == FOUND)
        return (f"{len(declared)} capabilities declared: {count(FOUND)} found, {count(MISSING)} missing, "
                f"{count(UNREACHABLE)} unreachable, {count(NOT_PROBED)} not probed; {notes} found but not declared")

    def table(self) -> str:
        """The findings as a plain-text table, one capability per line (declared ones first)."""
        rows = sorted(self.findings, key=lambda f: (not f.declared, f.capability))
        width = max(len(f.capability) for f in rows)
        lines = [f"PRE-FLIGHT of profile {self.profile!r}: {self.summary()}",
                 f"  {'capability'.ljust(width)}  declared  {'found'.ljust(11)}  detail"]
        for f in rows:
            state = f.state if f.declared or f.state != FOUND else "found: note"
            lines.append(f"  {f.capability.ljust(width)}  {'yes' if f.declared else 'no ':<8}  {state.ljust(11)}  "
                         f"{f.detail}")
        return "\n".join(lines)

    def properties(self) -> dict[str, str]:
        """Facts for environment.properties (the Allure report's Environment)."""
        props = {"preflight": self.summary()}
        for f in self.findings:
            if f.declared or f.state == FOUND:
                props[f"preflight.{f.capability}"] = f"{'declared' if f.declared else 'not declared'}, {f.state}: {f.detail}"
        return props

    def write(self, path: Path) -> None:
        """The findings as JSON (reports/preflight.json)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"profile": self.profile, "summary": self.summary(),
                                    "findings": [asdict(f) | {"blocks": f.blocks} for f in self.findings]}, indent=2),
                        encoding="utf-8")


def run_preflight(session: Any, gpu_unavailable: Callable[[], str] | None = None) -> Preflight:
    """Probe every capability the suite knows against the session's target; nothing here raises."""
    profile = session.profile
    probes = _probes(session, gpu_unavailable)
    findings = []
    for name in CAPABILITIES:
        try:
            state, detail = probes[name]()
        except Exception as exc:  # noqa: BLE001 - a probe's own failure is a finding, never a traceback
            state, detail = UNREACHABLE, f"the probe failed: {type(exc).__name__}: {_first_line(exc)}"
        if name in NEVER_BLOCKS and state != FOUND and profile.provides(name):
            detail += " (its scenarios are skipped with this reason)"
        findings.append(Finding(name, profile.provides(name), state, detail))
    return Preflight(profile.name, findings)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else "(no message)"


def _probes(session: Any, gpu_unavailable: Callable[[], str] | None) -> dict[str, Callable[[], tuple[str, str]]]:
    profile = session.profile
    gw = profile.gateway
    endpoint = lambda method, path, body=None: lambda: _endpoint(session, method, path, body)  # noqa: E731
    not_probed = lambda why: lambda: (NOT_PROBED, why)  # noqa: E731
    table = lambda name: lambda: _table(session, name)  # noqa: E731
    return {
        # no model and no message: a gateway refuses it (400); a bare model server answers one token at most
        "chat": endpoint("POST", gw.chat_path, {"messages": [], "max_tokens": 1}),
        "streaming": not_probed("no cheap probe tells a stream apart; the streaming scenarios judge it"),
        "model_list": lambda: _model_list(session),
        "embeddings": endpoint("POST", gw.embeddings_path, {}),
        "documents": endpoint("GET", gw.documents_path),
        "retrieval": endpoint("POST", gw.retrieval_path, {}),
        "key_admin": endpoint("GET", gw.admin_keys_path),
        "config_api": endpoint("GET", gw.config_path),
        "audit_chain": table("audit_log"),
        "request_log": table("request_log"),
        "lifecycle": endpoint("GET", gw.lifecycle_path),  # never POST: that would run the purge
        "response_cache": not_probed("only a repeated question shows a cache; the cache scenario asks it"),
        "rate_limit": not_probed("only a burst shows a rate limit; the abuse scenario sends it"),
        "gateway_log": lambda: _file(profile.operations.gateway_log, "[operations] gateway_log"),
        "health": endpoint("GET", gw.health_path),
        "metrics": endpoint("GET", gw.metrics_path),
        "openapi": endpoint("GET", profile.security.openapi_path),
        "database": lambda: _database(session),
        "backup": lambda: _backup(profile),
        "vector_store": lambda: _vector_store(session),
        "prometheus": lambda: _prometheus(session),
        "tls": lambda: _tls(gw.tls_url, gw.ca_file),
        "gpu": lambda: _gpu(gpu_unavailable),
        "control": lambda: ((FOUND, "the suite stops and starts the embedded stack's parts") if session.can_control_parts()
                            else (MISSING, "the suite controls the embedded stack's parts only")),
    }


def _endpoint(session: Any, method: str, path: str, body: Any = None) -> tuple[str, str]:
    if not path:
        return MISSING, "the profile names no path for it"
    ex = session.gateway.request(method, path, body)
    where = f"{method} {path}"
    if ex.status == 0:
        return UNREACHABLE, f"{where}: {ex.error or 'no answer'}"
    if ex.status == 404:
        return MISSING, f"{where} answers 404"
    if ex.status in (401, 403):
        return FOUND, f"{where} answers {ex.status} to the run's key (is [secrets] api_key an admin key?)"
    return FOUND, f"{where} answers {ex.status}"


def _model_list(session: Any) -> tuple[str, str]:
    gw = session.profile.gateway
    seen = []
    for path in dict.fromkeys(p for p in (gw.models_path, gw.planned_models_path) if p):
        state, detail = _endpoint(session, "GET", path)
        if state == FOUND:
            return state, detail
        seen.append((state, detail))
    return seen[0] if seen else (MISSING, "the profile names no model list path")


def _dsn(session: Any) -> str | None:
    profile = session.profile
    var = profile.secret_vars.get("database_dsn")
    return os.environ.get(var, "") if var else None


def _query(dsn: str, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, str]:
    """One read-only query: (its first row, "") or (None, why it could not run: host, never the password)."""
    import psycopg

    from citadel_acceptance.checks.database.db_errors import said, where_of

    try:
        with psycopg.connect(dsn, connect_timeout=int(PROBE_TIMEOUT_S), autocommit=True) as conn:
            return conn.execute(sql, params).fetchone(), ""
    except psycopg.Error as exc:
        return None, f"PostgreSQL {where_of(dsn)} refuses or does not answer: {said(exc, dsn)}"


def _database(session: Any) -> tuple[str, str]:
    from citadel_acceptance.checks.database.db_errors import where_of

    dsn = _dsn(session)
    if not dsn:
        return MISSING, "no database DSN: [secrets] database_dsn names no exported variable"
    row, problem = _query(dsn, "SHOW server_version")
    return (UNREACHABLE, problem) if problem else (FOUND, f"PostgreSQL {row[0] if row else '?'} {where_of(dsn)}")


def _table(session: Any, name: str) -> tuple[str, str]:
    dsn = _dsn(session)
    if not dsn:
        return UNREACHABLE, f"table {name} cannot be looked for: [secrets] database_dsn names no exported variable"
    row, problem = _query(dsn, "SELECT to_regclass(%s) IS NOT NULL", (name,))
    if problem:
        return UNREACHABLE, problem
    return (FOUND, f"table {name} exists") if row and row[0] else (MISSING, f"the database has no table {name}")


def _file(path: str, key: str) -> tuple[str, str]:
    if not path:
        return MISSING, f"{key} is not set"
    file = Path(path)
    if not file.exists():
        return UNREACHABLE, f"{path} does not exist here ({key}: the log as the suite's host sees it)"
    if not os.access(file, os.R_OK):
        return UNREACHABLE, f"{path} is not readable by the suite"
    return FOUND, f"{path} is readable"


def _backup(profile: Any) -> tuple[str, str]:
    ops = profile.operations
    if not ops.backup_command or not ops.restore_command:
        return MISSING, "[operations] backup_command and restore_command must both be set"
    return FOUND, "backup and restore commands are configured (the backup scenario runs them)"


def _vector_store(session: Any) -> tuple[str, str]:
    vector = session.profile.vector
    if vector is None or not vector.url:
        return MISSING, "[vector] url is not set"
    var = session.profile.secret_vars.get("qdrant_api_key")
    key = os.environ.get(var, "") if var else ""
    try:
        response = httpx.get(f"{vector.url}/collections", headers={"api-key": key} if key else {},
                             timeout=PROBE_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return UNREACHABLE, f"Qdrant at {vector.url} does not answer ({type(exc).__name__})"
    if response.status_code in (401, 403):
        return UNREACHABLE, f"Qdrant at {vector.url} refuses the key of [secrets] qdrant_api_key ({response.status_code})"
    if response.status_code != 200:
        return MISSING, f"GET {vector.url}/collections answers {response.status_code}, not Qdrant's 200"
    return FOUND, f"Qdrant answers at {vector.url} with the key"


def _prometheus(session: Any) -> tuple[str, str]:
    reason = session.prometheus_unavailable()
    if reason:
        return MISSING, reason
    url = session.prometheus_url.rstrip("/")
    try:
        response = httpx.get(f"{url}/-/ready", timeout=PROBE_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return UNREACHABLE, f"Prometheus at {url} does not answer ({type(exc).__name__})"
    if response.status_code != 200:
        return MISSING, f"GET {url}/-/ready answers {response.status_code}"
    return FOUND, f"Prometheus is ready at {url}"


def _tls(url: str, ca_file: str) -> tuple[str, str]:
    if not url:
        return MISSING, "[gateway] tls_url is not set"
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    context = ssl.create_default_context()
    if ca_file:
        if not Path(ca_file).exists():
            return UNREACHABLE, f"the CA file {ca_file} ([gateway] ca_file) does not exist"
        context = ssl.create_default_context(cafile=ca_file)
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                version = tls.version()
    except (OSError, ssl.SSLError) as exc:
        return UNREACHABLE, f"no TLS handshake with {host}:{port}: {_first_line(exc)}"
    return FOUND, f"{host}:{port} handshakes ({version})"


def _gpu(unavailable: Callable[[], str] | None) -> tuple[str, str]:
    if unavailable is None:
        return NOT_PROBED, "no GPU reader in this run"
    reason = unavailable()
    return (MISSING, reason) if reason else (FOUND, "GPUs can be read")
