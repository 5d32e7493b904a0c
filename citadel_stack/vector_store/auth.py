"""Qdrant's static API key check: header ``api-key: KEY`` or ``Authorization: Bearer KEY``.

As in Qdrant, ``/``, ``/healthz`` and everything under ``/readyz`` and ``/livez`` are open; every
other path (``/metrics`` included) needs the key when one is configured.
"""

from __future__ import annotations

import hmac
from typing import Mapping

from .errors import INVALID_API_KEY, MISSING_API_KEY

OPEN_EXACT_PATHS = frozenset({"/", "/healthz"})
OPEN_PATH_PREFIXES = ("/readyz", "/livez")


def is_open_path(path: str) -> bool:
    """True for the paths Qdrant serves without a key."""
    return path in OPEN_EXACT_PATHS or path.startswith(OPEN_PATH_PREFIXES)


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key a request presents: ``api-key`` first, else the token of ``Authorization: Bearer``."""
    key = headers.get("api-key")
    if key is not None:
        return key
    authorization = headers.get("authorization")
    if authorization is not None and authorization.startswith("Bearer "):
        return authorization[len("Bearer "):]
    return None


def refusal(api_key: str | None, path: str, headers: Mapping[str, str]) -> str | None:
    """Why the request is refused (the 401 message), or None when it may pass."""
    if api_key is None or is_open_path(path):
        return None
    key = presented_key(headers)
    if key is None:
        return MISSING_API_KEY
    if not hmac.compare_digest(key.encode("utf-8"), api_key.encode("utf-8")):
        return INVALID_API_KEY
    return None
