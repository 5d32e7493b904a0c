"""The vector store's faults: its part of the catalog (``citadel_stack.faults``) and the set one process runs with.

No fault is defined here: each is defined once in ``citadel_stack/faults/catalog.py``, and the code that
honours one (``engine.py``, ``collection.py``, ``search.py``) reads it through the properties below. Every
fault works through the engine or the request (index parameters, payload indexes, filters, time); none
edits a search's results.
"""

from __future__ import annotations

from typing import ClassVar

from citadel_stack.faults import CATALOG, DEGRADE_ANN, MISSING_PAYLOAD_INDEX, SLOW_SEARCH, Fault, Part
from citadel_stack.faults import FaultSet as _FaultSet

KNOWN_FAULTS: dict[str, Fault] = CATALOG.of_part(Part.VECTOR_STORE)


class FaultSet(_FaultSet):
    """The faults of one vector store process: only the vector store's are accepted."""

    PART: ClassVar[Part | None] = Part.VECTOR_STORE

    @property
    def degrade_fraction(self) -> float:
        """``degrade_ann:FRACTION``: how much of each HNSW graph's ``m`` and ``ef_construct`` is cut (0 without)."""
        return float(self.number(DEGRADE_ANN))

    @property
    def search_delay_s(self) -> float:
        """``slow_search:MS`` in seconds (0 without the fault)."""
        return self.number(SLOW_SEARCH) / 1000

    @property
    def missing_payload_indexes(self) -> frozenset[str]:
        """``missing_payload_index:FIELD``: the payload fields whose index is never built."""
        return frozenset(str(field) for field in self.values(MISSING_PAYLOAD_INDEX))
