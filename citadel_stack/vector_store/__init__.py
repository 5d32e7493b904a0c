"""A Qdrant REST stand-in over Qdrant's own engine (qdrant-edge): the embedded stack's vector store.

No Qdrant server can be installed on this machine. This service speaks the subset of Qdrant's REST
API that the gateway and the suite use, so both reach it with ``QdrantClient(url=..., api_key=...)``
exactly as they would reach a real Qdrant; a real deployment points its profile at its real Qdrant.

Run: ``python -m citadel_stack.vector_store --host 127.0.0.1 --port P --api-key-file FILE [--data-dir DIR]
[--fault NAME ...]``. Behind the API, each collection is one qdrant-edge shard (``engine.py``): HNSW
indexes built with the collection's settings once its vectors pass the indexing threshold, payload
indexes used by filters, ``indexed_vectors_count`` and status (yellow while optimizing) from the engine.
What differs from a real Qdrant: one shard per collection (shard, replication and WAL settings are
reported as asked), the optimizer holds the process while it runs (``optimizer.py``), writes and reads
of one collection do not overlap with a change of its settings, and snapshots answer 501 (qdrant-edge
0.9 cannot create one: ``errors.SNAPSHOTS_UNSUPPORTED``).
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
