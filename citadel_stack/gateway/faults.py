"""Named faults the gateway can be started with, for the acceptance suite's self-test only.

Each fault is registered once here with a one-line description; code asks
``NO_DONE_MARKER in config.faults``. Adding a fault means one ``_register`` line plus the
code that honours it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Fault:
    """A fault the gateway knows how to inject."""

    name: str
    description: str


KNOWN_FAULTS: dict[str, Fault] = {}


def _register(name: str, description: str) -> str:
    """Add a fault to the registry and return its name (used as the module constant)."""
    if name in KNOWN_FAULTS:
        raise ValueError(f"fault {name!r} registered twice")
    KNOWN_FAULTS[name] = Fault(name, description)
    return name


NO_DONE_MARKER = _register(
    "no_done_marker", "streamed chat completions never send the final 'data: [DONE]' line"
)
NO_V1_MODELS = _register(
    "no_v1_models", "the GET /v1/models route does not exist (404); GET /models still works"
)
HEALTH_ALWAYS_HEALTHY = _register(
    "health_always_healthy", "/health and /health/models report every service healthy without probing"
)
ACCEPT_UNKNOWN_KEY = _register(
    "accept_unknown_key", "any well-formed Bearer key is accepted (unknown keys get role 'user')"
)


@dataclass(frozen=True)
class FaultSet:
    """The faults active in one gateway process."""

    names: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, names: Iterable[object]) -> "FaultSet":
        """Validate fault names against the registry; unknown names raise ValueError."""
        seen: set[str] = set()
        for name in names:
            if not isinstance(name, str) or name not in KNOWN_FAULTS:
                known = ", ".join(sorted(KNOWN_FAULTS))
                raise ValueError(f"unknown fault {name!r}; known faults: {known}")
            seen.add(name)
        return cls(frozenset(seen))

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __bool__(self) -> bool:
        return bool(self.names)
