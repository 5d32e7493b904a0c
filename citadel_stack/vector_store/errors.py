"""Qdrant-shaped error answers and the exception the routes raise to produce them.

Qdrant answers errors as ``{"status": {"error": "..."}, "time": <seconds>}`` with the HTTP status
its storage error maps to: 400 wrong input, 404 not found, 409 already exists, 422 validation,
401 authentication. The texts below follow Qdrant's own wording where Qdrant has one.
"""

from __future__ import annotations

from typing import Any


class QdrantError(Exception):
    """An error answered with Qdrant's error envelope and the given HTTP status."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def error_body(message: str, elapsed_s: float = 0.0) -> dict[str, Any]:
    """Qdrant's error envelope."""
    return {"status": {"error": message}, "time": elapsed_s}


def collection_not_found(name: str) -> QdrantError:
    """404 for a collection that does not exist (Qdrant's wording)."""
    return QdrantError(404, f"Not found: Collection `{name}` doesn't exist!")


def collection_exists(name: str) -> QdrantError:
    """409 when creating a collection that already exists (Qdrant's wording)."""
    return QdrantError(409, f"Wrong input: Collection `{name}` already exists!")


def wrong_input(message: str) -> QdrantError:
    """400 for a request the engine refused (wrong vector size, unknown vector name, ...)."""
    return QdrantError(400, f"Wrong input: {message}")


def format_error(message: str) -> QdrantError:
    """400 for a body that is not JSON at all."""
    return QdrantError(400, f"Format error in JSON body: {message}")


def validation_error(message: str) -> QdrantError:
    """422 for a JSON body that does not match the request schema."""
    return QdrantError(422, f"Validation error in JSON body: {message}")


# Real Qdrant has snapshots; the engine behind this stand-in (qdrant-edge 0.9) can unpack and apply
# one but cannot create one, so no snapshot endpoint is served. 501 Not Implemented is HTTP's status
# for "the server does not support this functionality": a 5xx, because the request is valid and would
# work against a real Qdrant, so a backup check fails loudly instead of looking like a caller's
# mistake (4xx) or an empty list of snapshots (200).
SNAPSHOTS_UNSUPPORTED = (
    "Snapshots are not supported by the Citadel Qdrant stand-in (its engine, qdrant-edge 0.9, cannot create "
    "one); point the profile at a real Qdrant to test snapshots"
)


def snapshots_unsupported() -> QdrantError:
    """501 for every snapshot endpoint (see ``SNAPSHOTS_UNSUPPORTED``)."""
    return QdrantError(501, SNAPSHOTS_UNSUPPORTED)


MISSING_API_KEY = "Must provide an API key or an Authorization bearer token"
INVALID_API_KEY = "Invalid API key or JWT"
