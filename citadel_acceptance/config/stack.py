"""What the profile is and how the suite reaches its target: the `[profile]` and `[stack]` sections."""
from __future__ import annotations

from dataclasses import dataclass

from citadel_acceptance.errors import SuiteConfigError

MODES = ("embedded", "external")


@dataclass(frozen=True)
class ProfileInfo:
    """The profile's `[profile]`: its name (the file's name when left out) and what it describes."""

    name: str = ""
    description: str = ""


@dataclass(frozen=True)
class StackSettings:
    """The profile's `[stack]`: embedded (start or attach to the reference stack) or external, and the
    embedded stack's model; a value left out (None) is the stack's own default."""

    mode: str
    allow_destructive: bool = False
    allow_mutation: bool = False  # @mutates scenarios write to or delete from the deployment's data (opt-in)
    faults: tuple[str, ...] = ()
    model_package: str | None = None
    model_file: str | None = None
    upstream_model: str | None = None
    n_ctx: int | None = None
    n_threads: int | None = None
    api_shape: str | None = None  # "plan": the embedded gateway answers health and errors as the plan's documents do

    def validate(self) -> None:
        """Raise SuiteConfigError when the mode is not one the suite knows."""
        if self.mode not in MODES:
            raise SuiteConfigError(f"stack.mode must be one of {', '.join(MODES)}, not {self.mode!r}")
