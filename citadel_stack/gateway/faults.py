"""The gateway's faults: its part of the catalog (``citadel_stack.faults``) and the set one gateway process runs with.

No fault is defined here: each is defined once in ``citadel_stack/faults/catalog.py``, and the modules that
honour one import its constant from there (``from citadel_stack.faults import NO_DONE_MARKER``).
"""

from __future__ import annotations

from typing import ClassVar

from citadel_stack.faults import CATALOG, MODEL_SLOWER, Fault, Part
from citadel_stack.faults import FaultSet as _FaultSet

KNOWN_FAULTS: dict[str, Fault] = CATALOG.of_part(Part.GATEWAY)


class FaultSet(_FaultSet):
    """The faults of one gateway process: only the gateway's are accepted."""

    PART: ClassVar[Part | None] = Part.GATEWAY

    def model_slowdowns(self) -> dict[str, float]:
        """model id -> how many times as long its answers take, from ``model_slower:MODEL:FACTOR``."""
        return {str(spec.args[0]): float(spec.args[1]) for spec in self.of(MODEL_SLOWER)}

