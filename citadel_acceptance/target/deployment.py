"""A real Citadel deployment: reached through the profile's endpoints, never controlled by the suite."""
from __future__ import annotations

from dataclasses import dataclass

from citadel_acceptance.target.base import Target


@dataclass
class DeploymentTarget(Target):
    """A deployment nobody here wrote: the suite only sends it requests (its parts are not the suite's to stop)."""

    kind: str = "deployment"
