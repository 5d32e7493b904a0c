"""Test data of one run: every key and document the suite creates carries the run id and is removed at the end."""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from citadel_acceptance.target.data_api import WITHHELD, DataApi, IssuedKey
from citadel_acceptance.report.redaction import Redactor


def new_run_id() -> str:
    """A run id that sorts by time and cannot collide: citadel-YYYYmmddHHMMSS-xxxxxx."""
    return f"citadel-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{secrets.token_hex(3)}"


@dataclass
class RunData:
    """What this run created, so that it can all be removed, on failure too."""

    run_id: str
    api: DataApi
    redactor: Redactor
    keys: list[IssuedKey] = field(default_factory=list)
    documents: list[tuple[IssuedKey, str]] = field(default_factory=list)
    cleanup_problems: list[str] = field(default_factory=list)
    swept: list[IssuedKey] = field(default_factory=list)  # keys whose every document goes at the end (a fuzzer's)
    unanswered: list[IssuedKey] = field(default_factory=list)  # one entry per store sent and not answered (interrupted)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def issue_key(self, purpose: str, role: str = "user", owner: str | None = None) -> IssuedKey:
        """A least-privilege key for this run (owner defaults to a fresh per-run owner)."""
        name = f"{self.run_id}-{purpose}"
        exchange, key = self.api.create_key(name, role, owner or name, self.run_id)
        if key is None and isinstance(exchange.body, dict) and exchange.body.get("key") == WITHHELD:
            raise AssertionError(f"POST {exchange.url} created key {name!r} but its answer gives no id to revoke it by "
                                 f"(expected a number or a string in 'id', got {exchange.body}): revoke it by hand")
        if key is None:
            raise AssertionError(f"expected 201 and a key from POST {exchange.url}, got {exchange.status}: {exchange.body}")
        self.redactor.add(key.key)
        self.keys.append(key)
        return key

    def store(self, key: IssuedKey, content: str, title: str, metadata: dict[str, str]):
        """Store a document tagged with the run id; returns the exchange (201 expected).

        A store interrupted before its answer stays in `unanswered`: the server may still complete it.
        """
        with self._lock:
            self.unanswered.append(key)
        exchange = self.api.store_document(key, content, title, {**metadata, "run_id": self.run_id})
        document_id = _document_id(exchange)
        with self._lock:
            self.unanswered.remove(key)
            if document_id:
                self.documents.append((key, document_id))
            elif exchange.status == 201:
                self.cleanup_problems.append(
                    f"POST {exchange.url} answered 201 without a document id ({str(exchange.body)[:120]}): the suite "
                    "cannot delete that document by its id, only where its owner may list it; delete documents with "
                    f"metadata run_id={self.run_id}")
        return exchange

    def remove_document(self, key: IssuedKey, exchange: Any) -> None:
        """Delete one document of this run now (the exchange that stored it)."""
        document_id = _document_id(exchange)
        if document_id and self.api.delete_document(key, document_id).status in (200, 404):
            self.documents = [(k, d) for k, d in self.documents if d != document_id]

    def quiet_cleanup(self, what: str, remove: Callable[..., Any], *args: Any) -> Callable[[], None]:
        """A clean-up for behave's `add_cleanup` that never raises: where `remove(*args)` fails, `what` may be left,
        and why is one of the run's clean-up problems (reported at the end with the test data left). A clean-up
        that raised after its step's own error would only say the same thing twice, as a traceback."""
        def run() -> None:
            try:
                remove(*args)
            except Exception as exc:  # whatever it is, it is said once, in the end report
                self.cleanup_problems.append(f"{what} may be left: {' '.join(str(exc).split())[:240]}")

        return run

    def sweep_documents_of(self, key: IssuedKey) -> None:
        """At the end, delete every document `key`'s owner has (documents a tool stored without the run id)."""
        self.swept.append(key)

    def remove_all(self, settle_s: float = 0.0, late_store_wait_s: float = 60.0) -> list[str]:
        """Delete every document, then every key, of this run; returns what could not be removed.

        Every key's documents are listed first, not only those the suite saw stored: a store still in flight when
        the run was interrupted completes on the server after the client stopped listening (purging its key would
        leave its vector behind). After an interrupt (`settle_s` > 0) the clean-up first waits, up to
        `late_store_wait_s`, until each store left unanswered shows up in its owner's list (a slow machine may take
        many seconds to embed it), then sweeps twice, `settle_s` apart.
        """
        known: set[str] = set()
        if settle_s > 0 and self.unanswered:
            self._wait_for_late_stores(late_store_wait_s)
        for sweep in range(2 if settle_s > 0 else 1):  # after an interrupt, once more: a store may finish late
            if sweep:
                time.sleep(settle_s)
            known.update(document_id for _, document_id in self.documents)
            for key in self.swept + [k for k in self.keys if k not in self.swept]:
                for document_id in self._listed(key):
                    if document_id not in known:
                        known.add(document_id)
                        self.documents.append((key, document_id))
            for key, document_id in reversed(self.documents):
                ex = self.api.delete_document(key, document_id)
                if ex.status not in (200, 404):
                    self.cleanup_problems.append(f"document {document_id}: DELETE answered {ex.status} {ex.error}")
            self.documents.clear()
        for key in reversed(self.keys):
            ex = self.api.delete_key(key.id)
            if ex.status not in (200, 404):
                self.cleanup_problems.append(f"key {key.id}: DELETE answered {ex.status} {ex.error}")
        self.documents.clear()
        self.keys.clear()
        self.swept.clear()
        return self.cleanup_problems

    def _listed(self, key: IssuedKey) -> list[str]:
        """The ids in `key`'s owner's document list (none where the key may not list: admin, reader)."""
        listed = self.api.list_documents(key)
        items = listed.body.get("data") if listed.status == 200 and isinstance(listed.body, dict) else None
        if not isinstance(items, list):  # a foreign answer (a string, null) lists nothing
            return []
        return [str(item["id"]) for item in items if isinstance(item, dict) and item.get("id") not in (None, "")]

    def _wait_for_late_stores(self, wait_s: float) -> None:
        """Wait until every owner with an unanswered store lists that many documents the run has not seen."""
        seen = {document_id for _, document_id in self.documents}
        expected: dict[str, tuple[IssuedKey, int]] = {}
        for key in self.unanswered:
            expected[key.id] = (key, expected.get(key.id, (key, 0))[1] + 1)
        deadline = time.monotonic() + wait_s
        while expected and time.monotonic() < deadline:
            for key_id, (key, count) in list(expected.items()):
                if len(set(self._listed(key)) - seen) >= count:
                    del expected[key_id]
            if expected:
                time.sleep(0.5)
        if expected:
            self.cleanup_problems.append(
                f"{sum(c for _, c in expected.values())} store(s) in flight at the interrupt did not finish within "
                f"{wait_s:.0f} s; if they finish later, delete documents with metadata run_id={self.run_id}")
        self.unanswered.clear()


def _document_id(exchange: Any) -> str:
    """The id of the document a 201 answer stored ("" for another answer, or one without an id)."""
    body = exchange.body if exchange.status == 201 and isinstance(exchange.body, dict) else {}
    found = body.get("id")
    return "" if found in (None, "") else str(found)
