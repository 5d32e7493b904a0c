"""The suite's own specification of a tamper-evident audit trail: a hash chain over the audit rows.

Written here, not imported from any gateway, so that a bug in an implementation cannot pass unseen:

    hash(row_n) = sha256( canonical_json({"prev": prev_hash(row_n), "actor": actor, "action": action,
                                          "target": target, "details": details}) )  as lowercase hex
    prev_hash(row_1) = GENESIS = "0" * 64,   prev_hash(row_n) = hash(row_n-1)  (rows in id order)

canonical_json: keys sorted, separators "," and ":" (no spaces), UTF-8, non-ASCII escaped as JSON does by
default; `details` is the row's JSON document as stored. A row is broken when its stored `prev_hash` is not the
previous row's hash, or its stored `hash` is not the formula's value: one edited, inserted or deleted row
breaks the chain from there on. The reference gateway implements this rule; tests/stack checks it does.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable, Sequence

GENESIS = "0" * 64
FORMULA = ('hash = sha256(canonical JSON of {"prev", "actor", "action", "target", "details"}); '
           "prev_hash = the previous row's hash (first row: 64 zeros)")


def row_hash(prev_hash: str, actor: str, action: str, target: str, details: Any) -> str:
    """The hash a row must carry, by the formula above."""
    content = json.dumps({"prev": prev_hash, "actor": actor, "action": action, "target": target, "details": details},
                         sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def broken_rows(rows: Iterable[Sequence[Any]]) -> list[int]:
    """Ids of the rows that break the chain; rows are (id, actor, action, target, details, prev_hash, hash) in id order."""
    broken, prev = [], GENESIS
    for row_id, actor, action, target, details, prev_hash, digest in rows:
        if prev_hash != prev or digest != row_hash(prev_hash, actor, action, target, details):
            broken.append(row_id)
        prev = digest
    return broken
