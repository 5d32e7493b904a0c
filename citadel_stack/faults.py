"""The catalog of faults the embedded stack can be started with, for the suite's self-test only.

A fault is named at launch (`--fault NAME`, or `-D faults=NAME,...` for behave). Each one breaks one
promise of the contract, so that the scenario guarding that promise can be shown to fail.
"""
from __future__ import annotations

from dataclasses import dataclass

from citadel_stack.gateway.faults import KNOWN_FAULTS


@dataclass(frozen=True)
class Fault:
    """One injectable defect: the part it breaks and what it does."""

    name: str
    part: str
    description: str


CATALOG: dict[str, Fault] = {
    # Faults of the gateway are defined (and honoured) by the gateway itself.
    **{name: Fault(name, "gateway", fault.description) for name, fault in KNOWN_FAULTS.items()},
}


def fault_name(spec: str) -> str:
    """The name of a fault spec (`slow_model:phi3:2000` -> `slow_model`)."""
    return spec.split(":", 1)[0]


def validate_faults(specs: tuple[str, ...] | list[str]) -> None:
    """Raise ValueError naming the unknown faults and the known ones."""
    unknown = [spec for spec in specs if fault_name(spec) not in CATALOG]
    if unknown:
        raise ValueError(f"unknown fault(s) {', '.join(unknown)}; known faults: {', '.join(sorted(CATALOG))}")
