"""How requests are made: the probe question (`[probe]`) and the load runs of SC2 (`[load]`)."""
from __future__ import annotations

from dataclasses import dataclass

from citadel_acceptance.errors import SuiteConfigError

ARRIVALS = ("poisson", "constant")


@dataclass(frozen=True)
class ProbeSettings:
    """The profile's `[probe]`: the question single requests ask, and their answer length."""

    prompt: str
    max_tokens: int


@dataclass(frozen=True)
class LoadSettings:
    """The profile's `[load]`: window, warm-up, request shape, normal load, arrivals.

    `prompt` "" means the probe's prompt (the loader fills it in).
    """

    window_s: float = 60.0
    warmup_s: float = 10.0
    max_tokens: int = 64
    prompt: str = ""
    normal_rps: float = 5.0
    arrivals: str = "poisson"
    seed: int = 2026

    def validate(self) -> None:
        """Raise SuiteConfigError naming the first value that cannot make a load run."""
        if self.arrivals not in ARRIVALS:
            raise SuiteConfigError(f"load.arrivals must be one of {', '.join(ARRIVALS)}, not {self.arrivals!r}")
