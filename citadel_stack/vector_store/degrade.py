"""The ``degrade_ann`` fault: make an exact ranking look like a poor approximate (HNSW) one.

A fraction of the top-k is swapped for points ranked just below it, chosen by a generator seeded
from the query itself, so the same query degrades the same way every time (a recall gate measured
twice sees the same recall).
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any, Sequence, TypeVar

T = TypeVar("T")

# How many candidates per result to fetch beyond the top-k, to draw the replacements from.
CANDIDATE_FACTOR = 3


def query_seed(*parts: Any) -> int:
    """A stable 64-bit seed for a query (its parts as JSON, hashed)."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def degrade(ranked: Sequence[T], top_k: int, fraction: float, seed: int) -> list[T]:
    """The top `top_k` of `ranked` with round(fraction * k) of them replaced by lower-ranked ones.

    `ranked` is best first and should hold more than `top_k` items (about ``CANDIDATE_FACTOR`` times);
    with too few lower-ranked items, fewer are replaced. The answer keeps the original order
    (kept items first, replacements after, each in rank order), as an approximate search still
    returns its hits sorted by score.
    """
    k = min(top_k, len(ranked))
    replace = min(round(fraction * k), len(ranked) - k)
    if replace <= 0:
        return list(ranked[:k])
    rng = random.Random(seed)
    dropped = set(rng.sample(range(k), replace))
    substitutes = sorted(rng.sample(range(k, len(ranked)), replace))
    return [ranked[i] for i in range(k) if i not in dropped] + [ranked[i] for i in substitutes]
