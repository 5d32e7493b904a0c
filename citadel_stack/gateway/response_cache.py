"""The response cache (T2-002): identical deterministic chat requests are answered from memory.

Only non-streamed requests at temperature 0 without retrieval are cached, per key owner, for a
bounded time and size. Answers from the cache carry `X-Cache: hit`.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from typing import Any, Callable, Mapping

CACHEABLE_KEYS = frozenset({"model", "messages", "max_tokens", "temperature", "top_p", "stop", "seed", "n"})


def cache_key(owner: str, body: Mapping[str, Any]) -> str | None:
    """The key of a cacheable request, or None when the request must reach the model."""
    if body.get("stream") or body.get("temperature", 1) != 0 or "retrieval" in body:
        return None
    if set(body) - CACHEABLE_KEYS - {"stream"}:
        return None  # unknown parameters: do not guess whether they change the answer
    canonical = json.dumps({"owner": owner, **{k: body[k] for k in sorted(body) if k != "stream"}}, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    """An LRU of answers with a time to live."""

    def __init__(self, max_entries: int = 1024, ttl_s: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._max = max_entries
        self._ttl = ttl_s
        self._clock = clock

    def get(self, key: str) -> dict[str, Any] | None:
        """A copy of the cached answer, or None when absent or expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, answer = entry
        if self._clock() - stored_at > self._ttl:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return json.loads(json.dumps(answer))

    def put(self, key: str, answer: dict[str, Any]) -> None:
        """Remember an answer, dropping the least recently used beyond the size bound."""
        self._entries[key] = (self._clock(), json.loads(json.dumps(answer)))
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
