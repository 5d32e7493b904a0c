"""A Qdrant REST stand-in over qdrant-client's local engine: the embedded stack's vector store.

No Qdrant server can be installed on this machine. This service speaks the subset of Qdrant's REST
API that the gateway and the suite use, so both reach it with ``QdrantClient(url=..., api_key=...)``
exactly as they would reach a real Qdrant; a real deployment points its profile at its real Qdrant.

Run: ``python -m citadel_stack.vector_store --host 127.0.0.1 --port P --api-key-file FILE [--fault NAME ...]``.
What differs from a real Qdrant: search is always exact (brute force; ``indexed_vectors_count`` is 0),
HNSW/WAL/optimizer settings and payload indexes are recorded and reported but not applied, the store
lives in memory only, and snapshots answer 501 (see ``errors.SNAPSHOTS_UNSUPPORTED``).
"""

from __future__ import annotations

from importlib.metadata import version as _package_version

from .faults import KNOWN_FAULTS, FaultSet


def standin_version() -> str:
    """``MAJOR.MINOR.0-citadel-standin``, MAJOR.MINOR of the installed qdrant-client (its REST API level).

    qdrant-client compares MAJOR.MINOR with the server's at connect time and warns on a mismatch;
    the suffix makes sure nobody mistakes the stand-in for a real Qdrant.
    """
    major, minor, *_ = _package_version("qdrant-client").split(".")
    return f"{major}.{minor}.0-citadel-standin"


__all__ = ["KNOWN_FAULTS", "FaultSet", "standin_version"]
