"""What every target offers the suite: facts for the evidence, and control of its parts where allowed.

A target is a deployment the suite judges. Its endpoints and secrets live in the profile; the target adds
what the suite may do to it beyond sending requests: stop, start or kill a part, and read its processes.
Like httpx's transports, the suite talks to this base; `deployment` and `embedded` are the adapters.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict


class ProcessIdentity(TypedDict):
    """A running process: its PID and its start time (a restarted part has a new start time)."""

    pid: float
    create_time: float


class ControlNotAllowed(RuntimeError):
    """The suite may not stop, start or kill parts of this target; the message says why."""


@dataclass
class Target:
    """A target the suite cannot control: it is only sent requests."""

    kind: str = "deployment"

    def can_control(self) -> bool:
        """Whether the suite may stop, start and kill parts of this target (@destructive scenarios)."""
        return False

    def stop_part(self, part: str) -> None:
        """Stop one part (an outage the scenario causes on purpose)."""
        raise ControlNotAllowed(f"the suite does not control the parts of this {self.kind} target (cannot stop {part})")

    def start_part(self, part: str) -> None:
        """Start one part again and wait until it is ready."""
        raise ControlNotAllowed(f"the suite does not control the parts of this {self.kind} target (cannot start {part})")

    def kill_part(self, part: str) -> None:
        """Crash one part (SIGKILL), as an outage would."""
        raise ControlNotAllowed(f"the suite does not control the parts of this {self.kind} target (cannot kill {part})")

    def processes(self) -> dict[str, ProcessIdentity | None]:
        """Every part with the process running it now (None: not running); empty when the suite cannot see them."""
        return {}

    def process_id(self, part: str) -> int | None:
        """The PID of one part's process, when the suite can see it."""
        return None

    def calibration(self) -> dict[str, float]:
        """Figures measured on this machine that a profile's thresholds may be relative to (none for a deployment);
        measured when first asked for."""
        return {}

    @property
    def secrets(self) -> tuple[str, ...]:
        """Secrets the target holds that no profile variable names (the redactor learns them)."""
        return ()

    @property
    def state_dir(self) -> Path | None:
        """Where the target keeps its own files on this machine (logs, backups), if the suite may read them."""
        return None

    def prometheus_missing(self) -> str:
        """Why this target runs no Prometheus of its own ("" when it does, or when that is the profile's business)."""
        return ""

    def properties(self) -> dict[str, str]:
        """Facts of the target for environment.properties (versions, faults); no secrets."""
        return {"target.kind": self.kind}

    def close(self) -> None:
        """Release what the suite holds on the target (nothing, for a deployment)."""
