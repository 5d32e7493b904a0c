"""The run's test data goes at the end, also what a store left in flight by an interrupt created on the server."""
from __future__ import annotations

from dataclasses import dataclass, field

from citadel_acceptance.target.data_api import IssuedKey
from citadel_acceptance.target.gateway_client import Exchange
from citadel_acceptance.report.redaction import Redactor
from citadel_acceptance.run.test_data import RunData


def _answer(status: int, body: object = None) -> Exchange:
    return Exchange(method="X", url="/", status=status, body=body, headers={}, request_id="r", elapsed_ms=1.0)


@dataclass
class FakeGateway:
    """Documents by owner, as the gateway keeps them; keys that may not list answer 403."""

    documents: dict[str, list[str]] = field(default_factory=dict)
    unlisting: set[int] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)

    def list_documents(self, key: IssuedKey) -> Exchange:
        self.calls.append(f"list {key.id}")
        if key.id in self.unlisting:
            return _answer(403, {"error": {"message": "forbidden"}})
        return _answer(200, {"data": [{"id": d} for d in self.documents.get(key.owner, [])]})

    def delete_document(self, key: IssuedKey, document_id: str) -> Exchange:
        self.calls.append(f"delete {document_id}")
        owned = self.documents.get(key.owner, [])
        if document_id not in owned:
            return _answer(404)
        owned.remove(document_id)
        return _answer(200)

    def delete_key(self, key_id: int) -> Exchange:
        self.calls.append(f"purge key {key_id}")
        return _answer(200)


def _key(number: int, owner: str) -> IssuedKey:
    return IssuedKey(id=number, key=f"sk-{number}", role="user", owner=owner)


def test_documents_the_suite_never_saw_stored_are_removed_before_their_keys():
    alice, admin = _key(1, "alice"), _key(2, "loader")
    gateway = FakeGateway(documents={"alice": ["seen", "in-flight"], "loader": []}, unlisting={2})
    data = RunData(run_id="citadel-test", api=gateway, redactor=Redactor(), keys=[alice, admin],
                   documents=[(alice, "seen")])
    assert data.remove_all() == []
    assert gateway.documents == {"alice": [], "loader": []}
    assert gateway.calls.index("delete in-flight") < gateway.calls.index("purge key 1")
    assert gateway.calls.count("delete seen") == 1  # listed again, deleted once


def test_a_key_that_may_not_list_loses_nothing_it_knows():
    reader = _key(3, "bob")
    gateway = FakeGateway(documents={"bob": ["known"]}, unlisting={3})
    data = RunData(run_id="citadel-test", api=gateway, redactor=Redactor(), keys=[reader], documents=[(reader, "known")])
    assert data.remove_all() == [] and gateway.documents == {"bob": []}


@dataclass
class LateStore(FakeGateway):
    """A store in flight when the run was interrupted lands after the first listing."""

    lists: int = 0

    def list_documents(self, key: IssuedKey) -> Exchange:
        self.lists += 1
        if self.lists == 2:
            self.documents.setdefault(key.owner, []).append("late")
        return super().list_documents(key)


def test_after_an_interrupt_a_store_that_lands_late_is_removed_by_the_second_sweep(monkeypatch):
    monkeypatch.setattr("citadel_acceptance.run.test_data.time.sleep", lambda s: None)
    alice = _key(1, "alice")
    gateway = LateStore(documents={"alice": ["seen"]})
    data = RunData(run_id="citadel-test", api=gateway, redactor=Redactor(), keys=[alice], documents=[(alice, "seen")])
    assert data.remove_all(settle_s=3.0) == []
    assert gateway.documents == {"alice": []} and gateway.calls.count("delete seen") == 1
    assert gateway.calls.index("delete late") < gateway.calls.index("purge key 1")


@dataclass
class SlowStore(FakeGateway):
    """A store left unanswered by the interrupt lands only after several listings (a slow embedding)."""

    lists: int = 0
    lands_at: int = 5

    def list_documents(self, key: IssuedKey) -> Exchange:
        self.lists += 1
        if self.lists == self.lands_at:
            self.documents.setdefault(key.owner, []).append("very-late")
        return super().list_documents(key)


def _interrupted_store(data: RunData, key: IssuedKey) -> None:
    """What an interrupt inside `RunData.store` leaves: the store sent, its answer never read."""
    class Interrupting:
        def store_document(self, *args, **kwargs):
            raise KeyboardInterrupt
    api, data.api = data.api, Interrupting()
    try:
        data.store(key, "text", "title", {})
    except KeyboardInterrupt:
        pass
    data.api = api


def test_after_an_interrupt_the_clean_up_waits_for_a_store_left_unanswered(monkeypatch):
    monkeypatch.setattr("citadel_acceptance.run.test_data.time.sleep", lambda s: None)
    alice = _key(1, "alice")
    gateway = SlowStore(documents={"alice": ["seen"]}, lands_at=7)
    data = RunData(run_id="citadel-test", api=gateway, redactor=Redactor(), keys=[alice], documents=[(alice, "seen")])
    _interrupted_store(data, alice)
    assert data.unanswered == [alice]
    assert data.remove_all(settle_s=3.0) == []
    assert gateway.documents == {"alice": []}
    assert gateway.calls.index("delete very-late") < gateway.calls.index("purge key 1")


def test_a_store_that_never_lands_is_reported_with_the_run_id(monkeypatch):
    clock = iter(range(0, 10_000, 1))
    monkeypatch.setattr("citadel_acceptance.run.test_data.time.sleep", lambda s: None)
    monkeypatch.setattr("citadel_acceptance.run.test_data.time.monotonic", lambda: float(next(clock)))
    alice = _key(1, "alice")
    gateway = FakeGateway(documents={"alice": []})
    data = RunData(run_id="citadel-test", api=gateway, redactor=Redactor(), keys=[alice])
    _interrupted_store(data, alice)
    problems = data.remove_all(settle_s=3.0, late_store_wait_s=5)
    assert len(problems) == 1 and "did not finish within 5 s" in problems[0] and "run_id=citadel-test" in problems[0]


class KeyIssuingGateway:
    """A gateway's admin-keys answer: 201 with `body` (the DataApi under test reads it)."""

    def __init__(self, body: dict) -> None:
        self.body = body
        self.settings = type("Paths", (), {"admin_keys_path": "/admin/keys"})()

    def request(self, method: str, path: str, body: object = None, auth: object = True) -> Exchange:
        return Exchange(method=method, url=f"http://gw{path}", status=201, body=dict(self.body), headers={},
                        request_id="r", elapsed_ms=1.0)


def test_a_key_id_that_is_a_string_is_kept_as_the_gateway_gave_it():
    from citadel_acceptance.target.data_api import DataApi

    api = DataApi(KeyIssuingGateway({"id": "6f1c0e52-7a0b-4c1e-9d35-0f4b2b0d9a11", "key": "sk-secret-1"}))
    data = RunData(run_id="citadel-test", api=api, redactor=Redactor())
    key = data.issue_key("user")
    assert key.id == "6f1c0e52-7a0b-4c1e-9d35-0f4b2b0d9a11" and key.key == "sk-secret-1"


def test_a_created_key_without_an_id_is_named_without_its_secret():
    import pytest
    from citadel_acceptance.target.data_api import DataApi

    data = RunData(run_id="citadel-test", api=DataApi(KeyIssuingGateway({"key": "sk-secret-2"})), redactor=Redactor())
    with pytest.raises(AssertionError, match="created key 'citadel-test-user' but its answer gives no id") as failed:
        data.issue_key("user")
    assert "sk-secret-2" not in str(failed.value)


def test_a_201_without_a_key_is_not_called_a_created_key():
    import pytest
    from citadel_acceptance.target.data_api import DataApi

    data = RunData(run_id="citadel-test", api=DataApi(KeyIssuingGateway({"id": 7})), redactor=Redactor())
    with pytest.raises(AssertionError, match="expected 201 and a key from POST") as failed:
        data.issue_key("user")
    assert "created key" not in str(failed.value)
