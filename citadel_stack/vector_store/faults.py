"""Named faults the vector store can be started with, for the acceptance suite's self-test only.

Each fault is registered once here with a one-line description; code asks ``IGNORE_FILTER in faults``.
Adding a fault means one ``_register`` line plus the code that honours it (``search.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Fault:
    """A fault the vector store knows how to inject."""

    name: str
    description: str


KNOWN_FAULTS: dict[str, Fault] = {}


def _register(name: str, description: str) -> str:
    """Add a fault to the registry and return its name (used as the module constant)."""
    if name in KNOWN_FAULTS:
        raise ValueError(f"fault {name!r} registered twice")
    KNOWN_FAULTS[name] = Fault(name, description)
    return name


DEGRADE_ANN = _register(
    "degrade_ann",
    "degrade_ann:FRACTION replaces that fraction of the top-k of every non-exact search with lower-ranked "
    "points (seeded per query); exact searches stay exact",
)
IGNORE_FILTER = _register("ignore_filter", "searches (query and legacy search) ignore their payload filter")
SLOW_SEARCH = _register("slow_search", "slow_search:MS makes every search wait MS milliseconds before it answers")


@dataclass(frozen=True)
class FaultSet:
    """The faults active in one vector store process, with their validated arguments."""

    names: frozenset[str] = frozenset()
    degrade_fraction: float = 0.0
    search_delay_s: float = 0.0

    @classmethod
    def parse(cls, specs: Iterable[str]) -> FaultSet:
        """Validate fault specs (`name` or `name:arg`); unknown names or bad arguments raise ValueError."""
        names: set[str] = set()
        fraction, delay_s = 0.0, 0.0
        for spec in specs:
            name, _, arg = spec.partition(":")
            if name not in KNOWN_FAULTS:
                known = "; ".join(f"{f.name}: {f.description}" for f in sorted(KNOWN_FAULTS.values(), key=_name))
                raise ValueError(f"unknown fault {spec!r}; known faults: {known}")
            names.add(name)
            if name == DEGRADE_ANN:
                fraction = _fraction(arg, spec)
            elif name == SLOW_SEARCH:
                if not arg.isdigit():
                    raise ValueError(f"slow_search needs MS (whole milliseconds), e.g. slow_search:250, got {spec!r}")
                delay_s = int(arg) / 1000
            elif arg:
                raise ValueError(f"fault {name} takes no argument, got {spec!r}")
        return cls(frozenset(names), fraction, delay_s)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __bool__(self) -> bool:
        return bool(self.names)


def _name(fault: Fault) -> str:
    return fault.name


def _fraction(arg: str, spec: str) -> float:
    try:
        value = float(arg)
    except ValueError:
        value = -1.0
    if not 0.0 < value <= 1.0:
        raise ValueError(f"degrade_ann needs a FRACTION in (0, 1], e.g. degrade_ann:0.5, got {spec!r}")
    return value
