"""The vector store's faults: its part of the catalog (``citadel_stack.faults``) and the set one process runs with.

No fault is defined here: each is defined once in ``citadel_stack/faults/catalog.py``, and the code that
honours one (``search.py``) imports its constant from there.
"""

from __future__ import annotations

from typing import ClassVar

from citadel_stack.faults import CATALOG, DEGRADE_ANN, SLOW_SEARCH, Fault, Part
from citadel_stack.faults import FaultSet as _FaultSet

KNOWN_FAULTS: dict[str, Fault] = CATALOG.of_part(Part.VECTOR_STORE)


class FaultSet(_FaultSet):
    """The faults of one vector store process: only the vector store's are accepted."""

    PART: ClassVar[Part | None] = Part.VECTOR_STORE

    @property
    def degrade_fraction(self) -> float:
        """``degrade_ann:FRACTION``: the share of each approximate top-k replaced (0 without the fault)."""
        return float(self.number(DEGRADE_ANN))

    @property
    def search_delay_s(self) -> float:
        """``slow_search:MS`` in seconds (0 without the fault)."""
        return self.number(SLOW_SEARCH) / 1000
