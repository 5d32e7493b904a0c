"""Security (SC5): the `[security]` section and its `[security.fuzz]` table (Schemathesis)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FuzzSettings:
    """The profile's `[security.fuzz]`: examples per operation, seed, phases, operations that get only
    invalid generated bodies, and a time limit."""

    max_examples: int = 3
    seed: int = 20261124
    phases: str = "examples,fuzzing,stateful"
    negative_only: tuple[str, ...] = ("/v1/chat/completions",)
    timeout_s: float = 300.0


@dataclass(frozen=True)
class SecuritySettings:
    """The profile's `[security]`: where the API is described and what may be reached without a key."""

    openapi_path: str = "/openapi.json"
    public_paths: tuple[str, ...] = ()
    fuzz: FuzzSettings = field(default_factory=FuzzSettings)
