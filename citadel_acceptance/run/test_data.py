"""Test data of one run: every key and document the suite creates carries the run id and is removed at the end."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from citadel_acceptance.target.data_api import DataApi, IssuedKey
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

    def issue_key(self, purpose: str, role: str = "user", owner: str | None = None) -> IssuedKey:
        """A least-privilege key for this run (owner defaults to a fresh per-run owner)."""
        name = f"{self.run_id}-{purpose}"
        exchange, key = self.api.create_key(name, role, owner or name, self.run_id)
        if key is None:
            raise AssertionError(f"expected 201 and a key from POST {exchange.url}, got {exchange.status}: {exchange.body}")
        self.redactor.add(key.key)
        self.keys.append(key)
        return key

    def store(self, key: IssuedKey, content: str, title: str, metadata: dict[str, str]):
        """Store a document tagged with the run id; returns the exchange (201 expected)."""
        exchange = self.api.store_document(key, content, title, {**metadata, "run_id": self.run_id})
        if exchange.status == 201 and isinstance(exchange.body, dict):
            self.documents.append((key, str(exchange.body["id"])))
        return exchange

    def remove_document(self, key: IssuedKey, exchange: Any) -> None:
        """Delete one document of this run now (the exchange that stored it)."""
        if exchange.status == 201 and isinstance(exchange.body, dict):
            document_id = str(exchange.body["id"])
            if self.api.delete_document(key, document_id).status in (200, 404):
                self.documents = [(k, d) for k, d in self.documents if d != document_id]

    def sweep_documents_of(self, key: IssuedKey) -> None:
        """At the end, delete every document `key`'s owner has (documents a tool stored without the run id)."""
        self.swept.append(key)

    def remove_all(self, settle_s: float = 0.0) -> list[str]:
        """Delete every document, then every key, of this run; returns what could not be removed.

        Every key's documents are listed first, not only those the suite saw stored: a store still in flight when
        the run was interrupted completes on the server after the client stopped listening (purging its key would
        leave its vector behind). `settle_s` (after an interrupt) gives such a store time to finish first.
        """
        known: set[str] = set()
        for sweep in range(2 if settle_s > 0 else 1):  # after an interrupt, once more: a store may finish late
            if settle_s > 0:
                time.sleep(settle_s)
            known.update(document_id for _, document_id in self.documents)
            for key in self.swept + [k for k in self.keys if k not in self.swept]:
                listed = self.api.list_documents(key)  # a key that may not list (admin, reader) answers non-200
                for item in (listed.body.get("data", []) if listed.status == 200 and isinstance(listed.body, dict) else []):
                    if str(item.get("id")) not in known:
                        known.add(str(item.get("id")))
                        self.documents.append((key, str(item.get("id"))))
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
