"""No tracebacks as findings (issue 15, item 4): against a deployment the suite did not write, a probe that meets a
transport error, a missing table or a foreign answer says so in one sentence, as a failure, "environment not
ready" or a suite error; never as a product defect, never as the driver's traceback.

Each test feeds the foreign answer, or raises the client's exception, through a fake.
"""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any, Iterator

import httpx
import psycopg
import pytest
from psycopg import sql
from qdrant_client.http import models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from citadel_acceptance.checks.database import probe as database_probe
from citadel_acceptance.checks.database.db_errors import SchemaLacks, StatementTimedOut
from citadel_acceptance.checks.operations import probe as operations
from citadel_acceptance.checks.security import probe as security_probe
from citadel_acceptance.checks.soak import probes as soak_probes
from citadel_acceptance.checks.soak import runner
from citadel_acceptance.checks.soak.checkpoint import Checkpoint
from citadel_acceptance.checks.vector import probe as vector_probe
from citadel_acceptance.checks.vector.store_errors import guarded, unguarded
from citadel_acceptance.errors import EnvironmentNotReady, SuiteConfigError
from citadel_acceptance.report.redaction import Redactor
from citadel_acceptance.run.test_data import RunData
from citadel_acceptance.target.gateway_client import Exchange
from steps import database_steps, security_steps

DSN = "postgresql://citadel:s3cret-pw@db.example:5433/citadel"
QDRANT = "http://qdrant.example:6333"


def one_sentence(exc: BaseException) -> str:
    """The message, checked to be one line with no chained traceback behind it."""
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text, text
    assert exc.__cause__ is None and exc.__suppress_context__, "the driver's exception must not be chained"
    return text


# a. the soak's health sampler survives any answer

@pytest.mark.parametrize("answer, seen", [
    (httpx.Response(200, json=["healthy"]), "expected a JSON object with a status, got a JSON list"),
    (httpx.Response(200, json="healthy"), "expected a JSON object with a status, got a JSON string"),
    (httpx.Response(200, content=b""), "expected a JSON object with a status, got an empty body"),
    (httpx.Response(200, html="<html><body>Welcome to nginx</body></html>"),
     "expected a JSON object with a status, got text/html, not JSON"),
    (httpx.Response(200, json={"status": "degraded"}), "degraded"),
    (httpx.Response(503, text="busy"), "HTTP 503"),
])
def test_a_health_answer_that_is_no_health_report_is_an_unhealthy_sample_with_its_reason(monkeypatch, answer, seen):
    monkeypatch.setattr(soak_probes.httpx, "get", lambda *args, **kwargs: answer)
    healthy, health, _ = soak_probes.health_check("http://gw/health", 1.0)
    assert (healthy, health) == (False, seen)


def test_no_answer_at_all_is_an_unhealthy_sample_and_the_sampler_reads_on(monkeypatch):
    def refuse(*args: Any, **kwargs: Any) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    def broken_gpu() -> Any:
        raise RuntimeError("NVML went away")

    monkeypatch.setattr(soak_probes.httpx, "get", refuse)
    probes = soak_probes.SoakProbes(health_url="http://gw/health", verify=True, timeout_s=1.0, memory=lambda: 1e8,
                                    memory_unavailable="", db_connections=lambda: None, processes=dict,
                                    restarts_unavailable="", gpu=SimpleNamespace(read=broken_gpu))
    reading = probes.read()
    assert not reading.healthy and reading.health == "no answer: ConnectError: [Errno 111] Connection refused"
    assert reading.rss_bytes == 1e8 and reading.gpu_memory_used_bytes is None


def test_the_sampler_thread_records_every_foreign_answer_and_keeps_sampling(monkeypatch):
    answers = iter([httpx.Response(200, json=["up"]), httpx.Response(200, json="up"), httpx.Response(200, content=b""),
                    httpx.Response(200, html="<html>login</html>")] * 50)
    monkeypatch.setattr(soak_probes.httpx, "get", lambda *args, **kwargs: next(answers))
    probes = soak_probes.SoakProbes(health_url="http://gw/health", verify=True, timeout_s=1.0, memory=lambda: None,
                                    memory_unavailable="", db_connections=lambda: None, processes=dict,
                                    restarts_unavailable="")
    checkpoint = Checkpoint(run_id="r", profile="p", target="t", settings={})
    sampler = runner.Sampler(probes, clock=lambda: 0.0, interval_s=0.001, watcher=runner.ProcessWatcher(checkpoint),
                             status=lambda rows: "", progress=lambda line: None, progress_every_s=3600)
    sampler.start()
    deadline = time.monotonic() + 5
    while len(sampler._pending) < 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    sampler.stop()
    with sampler.lock:
        rows = sampler.drain(0)
    assert len(rows) >= 8 and not any(row.healthy for row in rows)
    assert [row.health for row in rows[:4]] == [f"expected a JSON object with a status, got {seen}" for seen in (
        "a JSON list", "a JSON string", "an empty body", "text/html, not JSON")]


def test_a_healthy_report_is_healthy(monkeypatch):
    monkeypatch.setattr(soak_probes.httpx, "get", lambda *args, **kwargs: httpx.Response(200, json={"status": "healthy"}))
    assert soak_probes.health_check("http://gw/health", 1.0)[:2] == (True, "healthy")


def test_the_stability_runs_health_sample_reads_the_profiles_health_words(monkeypatch):
    from citadel_acceptance.config.endpoints import HealthSettings

    monkeypatch.setattr(soak_probes.httpx, "get", lambda *args, **kwargs: httpx.Response(200, json={"status": "OK"}))
    assert soak_probes.health_check("http://gw/health", 1.0)[:2] == (True, "OK"), "'ok' is a default healthy word"
    green = HealthSettings(healthy_words=("green",), unhealthy_words=("amber",), unreachable_words=("red",))
    assert soak_probes.health_check("http://gw/health", 1.0, words=green)[:2] == (False, "OK")
    monkeypatch.setattr(soak_probes.httpx, "get", lambda *args, **kwargs: httpx.Response(200, json={"status": "Green"}))
    assert soak_probes.health_check("http://gw/health", 1.0, words=green)[:2] == (True, "Green")


# b. the TLS step without its CA file

def test_a_missing_ca_file_is_one_sentence_naming_the_file_and_the_profile_key(tmp_path):
    absent = str(tmp_path / "ca.pem")
    gateway = SimpleNamespace(tls_url="https://gw.example:8443", ca_file=absent, health_path="/health")
    context = SimpleNamespace(session=SimpleNamespace(profile=SimpleNamespace(gateway=gateway)))
    with pytest.raises(SuiteConfigError) as raised:
        security_steps.step_tls(context)
    assert str(raised.value).startswith(f"expected the CA file {absent!r} (profile key gateway.ca_file) to exist")
    assert "\n" not in str(raised.value)
    (tmp_path / "ca.pem").write_text("not a certificate")
    with pytest.raises(SuiteConfigError, match=r"\(profile key gateway.ca_file\) to hold PEM certificates"):
        security_probe.require_tls_settings("https://gw.example:8443", absent)
    with pytest.raises(SuiteConfigError, match=r"expected gateway.tls_url to be the gateway's https:// listener"):
        security_probe.require_tls_settings("", absent)


def test_an_https_answer_without_its_ca_file_is_an_exchange_with_the_error_not_an_exception(tmp_path):
    answer = security_probe.https_answer("https://127.0.0.1:9", str(tmp_path / "absent.pem"), "/health")
    assert answer.status == 0 and answer.error.startswith("FileNotFoundError")


# c. snapshots with a read-only key, and a snapshot that is not there

class SnapshotStore:
    """A Qdrant as the snapshot check calls it; `refuse` maps a method to the HTTP status it answers."""

    def __init__(self, listed: bool = True, refuse: dict[str, int] | None = None) -> None:
        self.listed, self.refuse, self.calls = listed, refuse or {}, []

    def _maybe_refuse(self, method: str) -> None:
        self.calls.append(method)
        if method in self.refuse:
            raise UnexpectedResponse(self.refuse[method], "x", b'{"status":{"error":"forbidden"}}', httpx.Headers())

    def create_snapshot(self, name: str, wait: bool = True) -> models.SnapshotDescription:
        self._maybe_refuse("create_snapshot")
        return models.SnapshotDescription(name="documents-1.snapshot", creation_time=None, size=10)

    def list_snapshots(self, name: str) -> list[models.SnapshotDescription]:
        self._maybe_refuse("list_snapshots")
        return [models.SnapshotDescription(name="documents-1.snapshot", creation_time=None, size=10)] if self.listed else []

    def collection_exists(self, name: str) -> bool:
        return True

    def count(self, name: str, exact: bool = True) -> SimpleNamespace:
        return SimpleNamespace(count=100)

    def delete_snapshot(self, name: str, snapshot: str, wait: bool = True) -> None:
        self._maybe_refuse("delete_snapshot")

    def delete_collection(self, name: str) -> None:
        self.calls.append("delete_collection")


def test_a_read_only_key_is_a_clear_snapshot_finding():
    store = guarded(SnapshotStore(refuse={"create_snapshot": 403}), QDRANT)
    supported, problem = vector_probe.snapshot_round_trip(store, "documents", QDRANT, "read-only-key")
    assert supported is True
    assert "the Qdrant key may not create snapshots" in problem and "a key with write access" in problem
    assert "(HTTP 403: forbidden)" in problem and "\n" not in problem


def test_a_snapshot_that_is_not_listed_or_not_downloadable_fails_in_one_sentence_and_is_cleaned_up(monkeypatch):
    store = SnapshotStore(listed=False)
    supported, problem = vector_probe.snapshot_round_trip(store, "documents", QDRANT, None)
    assert (supported, problem) == (True, "expected snapshot documents-1.snapshot of 'documents' in the store's list, "
                                          "it lists none")
    assert "delete_snapshot" in store.calls
    monkeypatch.setattr(httpx, "get", lambda *a, **k: httpx.Response(404, json={"status": {"error": "Not found"}}))
    supported, problem = vector_probe.snapshot_round_trip(SnapshotStore(), "documents", QDRANT, None)
    assert problem == "expected snapshot documents-1.snapshot of 'documents' to download, got HTTP 404: Not found"


def test_a_snapshot_clean_up_that_is_refused_is_a_note_not_a_second_error(monkeypatch):
    monkeypatch.setattr(httpx, "get", lambda *a, **k: httpx.Response(200, content=b"snapshot"))
    monkeypatch.setattr(httpx, "post", lambda *a, **k: httpx.Response(200, json={"result": True}))
    store = SnapshotStore(refuse={"delete_snapshot": 403})
    supported, problem = vector_probe.snapshot_round_trip(store, "documents", QDRANT, None)
    assert supported and problem.startswith("snapshot documents-1.snapshot of 'documents' was not removed "
                                            "(UnexpectedResponse: Unexpected Response: 403")
    assert "delete_collection" in store.calls  # the scratch collection still goes


def test_a_store_that_stops_answering_mid_snapshot_is_not_ready_after_the_clean_up(monkeypatch):
    def refused(*args: Any, **kwargs: Any) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    monkeypatch.setattr(httpx, "get", refused)
    store = SnapshotStore()
    with pytest.raises(EnvironmentNotReady) as raised:
        vector_probe.snapshot_round_trip(store, "documents", QDRANT, None)
    assert one_sentence(raised.value) == (
        f"ENVIRONMENT NOT READY: the vector store at {QDRANT} did not answer during the snapshot round trip of "
        "'documents' (ConnectError: [Errno 111] Connection refused)")
    assert "delete_snapshot" in store.calls


# d. named vectors, and an empty sample

def collection(vectors: Any, points: int = 3) -> SimpleNamespace:
    """What get_collection answers, with `vectors` as config.params.vectors."""
    hnsw = SimpleNamespace(m=16, ef_construct=100, full_scan_threshold=10000)
    return SimpleNamespace(config=SimpleNamespace(params=SimpleNamespace(vectors=vectors), hnsw_config=hnsw,
                                                  optimizer_config=SimpleNamespace(indexing_threshold=10000)),
                           status="green", points_count=points, indexed_vectors_count=0, segments_count=1,
                           payload_schema={})


class NamedStore:
    """A collection whose points carry named vectors."""

    def __init__(self, vectors: Any, points: list[Any]) -> None:
        self.vectors, self.points, self.queries = vectors, points, []

    def get_collection(self, name: str) -> SimpleNamespace:
        return collection(self.vectors, len(self.points))

    def collection_exists(self, name: str) -> bool:
        return True

    def scroll(self, name: str, **kwargs: Any) -> tuple[list[Any], None]:
        return self.points, None

    def query_points(self, name: str, query: Any, using: str | None = None, **kwargs: Any) -> SimpleNamespace:
        self.queries.append(using)
        return SimpleNamespace(points=[SimpleNamespace(id=1)])


def params(size: int) -> models.VectorParams:
    return models.VectorParams(size=size, distance=models.Distance.COSINE)


def test_named_vectors_are_searched_by_the_one_the_collection_or_the_profile_decides():
    points = [SimpleNamespace(vector={"text": [0.1, 0.2, 0.3, 0.4]}) for _ in range(3)]
    only = NamedStore({"text": params(4)}, points)
    assert vector_probe.search_vector(only, "documents") == "text"
    assert vector_probe.search_vector(NamedStore({"title": params(8), "text": params(4)}, points), "documents", 4) == "text"
    assert vector_probe.search_vector(NamedStore(params(4), points), "documents", 4) is None
    queries = vector_probe.sample_vectors(only, "documents", 2, using="text")
    assert len(queries) == 2
    assert len(vector_probe.timed_searches(only, "documents", queries, 10, "text")) == 2 and only.queries == ["text", "text"]
    facts = vector_probe.collection_facts(NamedStore({"title": params(8), "text": params(4)}, points), "documents", 4)
    assert (facts.vector_size, facts.distance) == (4, "Cosine")
    assert vector_probe.index_facts(NamedStore({}, points), "documents").vector_size == 0  # no dense vector: no error


def test_named_vectors_the_suite_cannot_choose_between_are_named_in_one_sentence():
    store = NamedStore({"a": params(4), "b": params(4)}, [])
    with pytest.raises(SuiteConfigError) as raised:
        vector_probe.search_vector(store, "documents", 4)
    assert str(raised.value) == ("expected one dense vector to search in collection 'documents', found 2 of size 4 "
                                 "among its named vectors 'a' (size 4), 'b' (size 4): the suite cannot tell which one "
                                 "the gateway searches (name it in the profile: [vector] vector_name)")
    assert vector_probe.search_vector(store, "documents", 4, wanted="b") == "b", "the profile's vector_name decides"


def test_the_profiles_vector_name_reaches_the_searches():
    from citadel_acceptance.config.profile import load_profile

    profile = load_profile("citadel-mvp2", overrides={"vector.vector_name": "dense"})
    assert profile.vector.vector_name == "dense"


def test_no_stored_vector_to_search_with_is_a_failure_with_its_reason_not_an_empty_pass():
    points = [SimpleNamespace(vector={"text": [0.1, 0.2]}) for _ in range(3)]
    with pytest.raises(vector_probe.NoSample, match=r"expected 5 stored vectors of collection 'documents' to search "
                       r"with, found none among the 3 points scrolled: its points carry named vectors \['text'\]"):
        vector_probe.sample_vectors(NamedStore({"text": params(2)}, points), "documents", 5)


def test_no_query_makes_no_pool_of_no_thread(monkeypatch):
    def no_pool(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a pool was made for no query")

    monkeypatch.setattr(vector_probe, "ThreadPoolExecutor", no_pool)
    samples, errors = vector_probe.concurrent_searches(NamedStore(params(2), []), "documents", [], 10)
    assert samples == [] and errors == ["no stored vector of collection 'documents' to search with, so no search was made"]


# e. the backup fingerprint is bounded

class FakeConnection:
    """A psycopg connection that records statements; `fail` maps a piece of a statement to what it raises."""

    def __init__(self, fail: dict[str, Exception] | None = None, tables: tuple[str, ...] = ("request_log",)) -> None:
        self.fail, self.tables, self.statements = fail or {}, tables, []

    def __enter__(self) -> FakeConnection:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def transaction(self) -> FakeConnection:
        return self

    def execute(self, query: Any, params: Any = None) -> Any:
        text = query.as_string(None) if isinstance(query, sql.Composable) else str(query)
        self.statements.append(text)
        for piece, error in self.fail.items():
            if piece in text:
                raise error
        return Result([(t,) for t in self.tables] if "pg_tables" in text else [(3, "abc")])


class Result(list):
    """What execute answers: rows to iterate or fetch, and a row count."""

    rowcount = 0

    def fetchone(self) -> Any:
        return self[0]

    def fetchall(self) -> list[Any]:
        return list(self)


def test_the_fingerprint_sets_a_statement_timeout_and_a_timeout_is_one_sentence(monkeypatch):
    conn = FakeConnection(fail={"md5(": psycopg.errors.QueryCanceled("canceling statement due to statement timeout")})
    monkeypatch.setattr(operations.psycopg, "connect", lambda *a, **k: conn)
    with pytest.raises(operations.FingerprintTimedOut) as raised:
        operations.fingerprints(DSN)
    assert conn.statements[0] == f"SET LOCAL statement_timeout = '{operations.FINGERPRINT_TIMEOUT_S}s'"
    assert one_sentence(raised.value).startswith("expected table 'request_log' to be hashed within 60 s "
                                                 "(statement_timeout), it took longer")


def test_a_fingerprint_timeout_fails_the_backup_check_and_the_scratch_database_is_dropped(monkeypatch, tmp_path):
    conn = FakeConnection(fail={"md5(": psycopg.errors.QueryCanceled("canceling statement due to statement timeout")})
    monkeypatch.setattr(operations.psycopg, "connect", lambda *a, **k: conn)
    session = SimpleNamespace(run_id="citadel-1", profile=SimpleNamespace(
        operations=SimpleNamespace(backup_command="true", restore_command="true"), secret=lambda name: DSN))
    check = operations.backup_round_trip(session, {})
    assert check.error.startswith("expected table 'request_log' to be hashed within 60 s")
    assert operations.backup_problems(check) == [check.error]
    assert any(s.startswith("DROP DATABASE IF EXISTS") for s in conn.statements)


# f. database probes: a missing table, an unreachable server, and the clean-up after them

def test_a_missing_table_is_a_failure_naming_it(monkeypatch):
    missing = psycopg.errors.UndefinedTable('relation "request_log" does not exist')
    monkeypatch.setattr(database_probe.psycopg, "connect", lambda *a, **k: FakeConnection(fail={"request_log": missing}))
    with pytest.raises(SchemaLacks) as raised:
        database_probe.insert_aged_request_rows(DSN, "citadel-1", 40, 3)
    assert isinstance(raised.value, AssertionError)  # a failure, said once
    assert one_sentence(raised.value) == (
        'expected table "request_log" in the database at db.example:5433/citadel (to insert request-log rows older '
        'than the retention), its schema lacks it (UndefinedTable: relation "request_log" does not exist)')


def test_an_unreachable_database_is_not_ready_naming_its_host_never_its_password(monkeypatch):
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise psycopg.OperationalError('connection to server at "db.example", port 5433 failed: password '
                                       "s3cret-pw rejected\nIs the server running?")

    monkeypatch.setattr(database_probe.psycopg, "connect", refuse)
    with pytest.raises(EnvironmentNotReady) as raised:
        database_probe.schema_objects(DSN)
    text = one_sentence(raised.value)
    assert text.startswith("ENVIRONMENT NOT READY: the database at db.example:5433/citadel cannot be reached to read "
                           "the schema (OperationalError: connection to server")
    assert "s3cret-pw" not in text


def test_a_cancelled_statement_and_a_refused_privilege_are_said_in_one_sentence(monkeypatch):
    cancelled = psycopg.errors.QueryCanceled("canceling statement due to statement timeout")
    monkeypatch.setattr(database_probe.psycopg, "connect", lambda *a, **k: FakeConnection(fail={"count(*)": cancelled}))
    with pytest.raises(StatementTimedOut, match=r"cancelled the suite's statement to count rows older than the "
                       r"retention: it ran past the server's statement_timeout"):
        database_probe.rows_older_than(DSN, "request_log", 30)
    denied = psycopg.errors.InsufficientPrivilege("permission denied for table request_log")
    monkeypatch.setattr(database_probe.psycopg, "connect", lambda *a, **k: FakeConnection(fail={"request_log": denied}))
    with pytest.raises(SuiteConfigError, match=r"refused the DSN's role to read the request-log rows"):
        database_probe.request_log_rows(DSN, ["r1"])


def aged_rows_context(run_data: RunData) -> SimpleNamespace:
    """What the aged-rows step reads, with behave's clean-ups kept in a list."""
    cleanups: list[Any] = []
    profile = SimpleNamespace(secret=lambda name: DSN, database=SimpleNamespace(retention_days=30))
    return SimpleNamespace(session=SimpleNamespace(profile=profile, run_id="citadel-1", run_data=run_data),
                           add_cleanup=cleanups.append, cleanups=cleanups)


def test_the_clean_up_after_a_missing_table_does_not_raise_again(monkeypatch):
    missing = psycopg.errors.UndefinedTable('relation "request_log" does not exist')
    monkeypatch.setattr(database_probe.psycopg, "connect", lambda *a, **k: FakeConnection(fail={"request_log": missing}))
    run_data = RunData(run_id="citadel-1", api=None, redactor=Redactor())
    context = aged_rows_context(run_data)
    with pytest.raises(SchemaLacks):
        database_steps.step_aged_rows(context)
    for cleanup in context.cleanups:
        cleanup()  # nothing was inserted, nothing is left: no error, no problem
    assert run_data.cleanup_problems == []


def test_the_clean_up_after_an_unreachable_database_notes_what_may_be_left(monkeypatch):
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise psycopg.OperationalError("connection refused")

    monkeypatch.setattr(database_probe.psycopg, "connect", refuse)
    run_data = RunData(run_id="citadel-1", api=None, redactor=Redactor())
    context = aged_rows_context(run_data)
    with pytest.raises(EnvironmentNotReady):
        database_steps.step_aged_rows(context)
    for cleanup in context.cleanups:
        cleanup()
    assert run_data.cleanup_problems == [
        "request-log rows with request_id LIKE 'suite-citadel-1-aged-%' may be left: ENVIRONMENT NOT READY: the "
        "database at db.example:5433/citadel cannot be reached to delete the run's aged request-log rows "
        "(OperationalError: connection refused)"]


def test_a_stored_document_answer_without_an_id_is_no_key_error():
    def answer(status: int, body: Any) -> Exchange:
        return Exchange("POST", "http://gw/v1/documents", status, body, {}, "r", 1.0)

    api = SimpleNamespace(store_document=lambda *a: answer(201, {"title": "x"}),
                          list_documents=lambda key: answer(200, {"data": None}))
    run_data = RunData(run_id="citadel-1", api=api, redactor=Redactor())
    key = SimpleNamespace(id=1)
    assert run_data.store(key, "text", "title", {}).status == 201
    assert run_data.documents == [] and "answered 201 without a document id" in run_data.cleanup_problems[0]
    assert run_data._listed(key) == []


def test_the_audit_chain_without_its_table_fails_naming_it(monkeypatch):
    missing = psycopg.errors.UndefinedTable('relation "audit_log" does not exist\nLINE 1: SELECT id, actor ...')
    monkeypatch.setattr(security_probe.psycopg, "connect", lambda *a, **k: FakeConnection(fail={"audit_log": missing}))
    with pytest.raises(SchemaLacks, match=r'^expected table "audit_log" in the database at db.example:5433/citadel '
                       r"\(to verify the audit trail's hash chain\), its schema lacks it"):
        security_probe.audit_chain(DSN)


# foreign answers of the operators' API, a log file or a backup tool that is not there

class ForeignGateway:
    """A gateway whose every answer is 200 with `body`: a JSON list, a string, anything but the contract."""

    def __init__(self, body: Any) -> None:
        self.body = body

    def request(self, method: str, path: str, body: Any = None, auth: Any = True) -> Exchange:
        return Exchange(method, f"http://gw{path}", 200, self.body, {}, "r", 1.0)


@pytest.mark.parametrize("body", [["settings"], "ok", None, {"settings": ["x"], "data": "none"}])
def test_a_foreign_answer_of_the_operators_api_is_a_finding_not_an_attribute_error(body):
    session = SimpleNamespace(gateway=ForeignGateway(body), redactor=Redactor(),
                              profile=SimpleNamespace(gateway=SimpleNamespace(planned_models_path="/v1/models",
                                                                              admin_keys_path="/admin/keys",
                                                                              config_path="/admin/config",
                                                                              audit_path="/admin/audit")))
    change = operations.change_and_roll_back(session, "rate_limit", 5)
    assert operations.audit_problems(change) == ["no audit row records the change of rate_limit to 5 (newest actions: [])"]
    assert operations.rollback_problems(change) == ["the rollback left no audit row"]
    assert not operations.key_lifecycle(session, SimpleNamespace(id=7, authorization="Bearer k")).listed


def test_the_configuration_change_goes_where_the_profile_says_and_its_failure_names_that_path():
    class Recording(ForeignGateway):
        def __init__(self) -> None:
            super().__init__({})
            self.calls: list[str] = []

        def request(self, method: str, path: str, body: Any = None, auth: Any = True) -> Exchange:
            self.calls.append(f"{method} {path}")
            return Exchange(method, f"http://gw{path}", 404 if method == "PUT" else 200, {}, {}, "r", 1.0)

    gateway = Recording()
    session = SimpleNamespace(gateway=gateway, redactor=Redactor(), profile=SimpleNamespace(
        gateway=SimpleNamespace(config_path="/ops/settings", audit_path="/ops/audit")))
    change = operations.change_and_roll_back(session, "rate_limit", 5)
    assert gateway.calls == ["GET /ops/settings", "PUT /ops/settings", "POST /ops/settings/rollback",
                             "GET /ops/settings", "GET /ops/audit?limit=20"]
    assert operations.audit_problems(change) == ["expected 200 from PUT /ops/settings, got 404: {}"]


def test_a_gateway_log_that_is_not_there_names_the_profile_key(tmp_path):
    with pytest.raises(SuiteConfigError, match=r"expected the gateway's log file at .*gateway.jsonl' \(profile key "
                       r"operations.gateway_log\), there is none"):
        operations.log_lines_for(tmp_path / "gateway.jsonl", "r1")


def test_a_backup_tool_that_is_not_there_fails_the_backup_check_in_one_sentence():
    check = operations.BackupCheck(database="scratch")
    assert operations._run(["/nonexistent/pg_dump", "-Fc"], check) is False
    assert check.error.startswith("expected `/nonexistent/pg_dump -Fc ...` to run to its end, it did not start "
                                  "(FileNotFoundError: ")


# g. Qdrant unreachable, or not a Qdrant

class Refusing:
    """A client each of whose calls raises `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def get_collection(self, name: str) -> None:
        raise self.error


def test_a_vector_store_that_does_not_answer_is_not_ready_in_one_sentence():
    refused = ResponseHandlingException(httpx.ConnectError("[Errno 111] Connection refused"))
    with pytest.raises(EnvironmentNotReady) as raised:
        vector_probe.index_facts(guarded(Refusing(refused), QDRANT), "documents")
    assert one_sentence(raised.value) == (f"ENVIRONMENT NOT READY: the vector store at {QDRANT} did not answer to "
                                          "get_collection on 'documents' (ConnectError: [Errno 111] Connection refused)")


def test_a_vector_store_answering_an_error_or_refusing_the_key_says_which():
    broken = UnexpectedResponse(502, "Bad Gateway", b"<html>502 Bad Gateway</html>", httpx.Headers())
    with pytest.raises(EnvironmentNotReady) as raised:
        guarded(Refusing(broken), QDRANT).get_collection("documents")
    assert one_sentence(raised.value) == (f"ENVIRONMENT NOT READY: expected Qdrant's answer from the vector store at "
                                          f"{QDRANT} to get_collection on 'documents', got HTTP 502: <html>502 Bad "
                                          "Gateway</html>")
    refused = UnexpectedResponse(403, "Forbidden", b'{"status":{"error":"read-only key"}}', httpx.Headers())
    with pytest.raises(SuiteConfigError, match=r"refused the suite's key to get_collection on 'documents' \(HTTP 403: "
                       r"read-only key\): give \[secrets\] qdrant_api_key a key that may do it"):
        guarded(Refusing(refused), QDRANT).get_collection("documents")


@pytest.fixture
def foreign_server() -> Iterator[str]:
    """An HTTP server that answers every request 200 with a JSON list: something, but not a Qdrant."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the name http.server calls
            body = b'["not", "qdrant"]'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_real_client_against_no_store_or_a_foreign_one_is_not_ready(foreign_server):
    with pytest.raises(EnvironmentNotReady, match=r"^ENVIRONMENT NOT READY: the vector store at http://127.0.0.1:9 "
                       r"did not answer to collection_exists on 'documents' \(ConnectError"):
        vector_probe.client("http://127.0.0.1:9", None).collection_exists("documents")
    store = vector_probe.client(foreign_server, None)
    with pytest.raises(EnvironmentNotReady) as raised:
        store.collection_exists("documents")
    assert one_sentence(raised.value).startswith(f"ENVIRONMENT NOT READY: expected Qdrant's answer from the vector "
                                                 f"store at {foreign_server} to collection_exists on 'documents', got "
                                                 "one qdrant-client cannot read (ValidationError")
    assert unguarded(store) is not store and unguarded(unguarded(store)) is unguarded(store)
    store.close()
