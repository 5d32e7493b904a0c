"""The catalog of faults the embedded stack can be started with, for the suite's self-test only.

A fault is named at launch (`--fault NAME`, or `-D faults=NAME,...` for behave). Each one breaks one
promise of the contract, so that the scenario guarding that promise can be shown to fail.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """One injectable defect: the part it breaks and what it does."""

    name: str
    part: str
    description: str


CATALOG: dict[str, Fault] = {
    fault.name: fault
    for fault in (
        Fault("no_done_marker", "gateway", "streamed chat answers never send the closing `data: [DONE]`"),
        Fault("no_v1_models", "gateway", "GET /v1/models is missing (404); GET /models still answers"),
        Fault("health_always_healthy", "gateway", "/health reports every model service healthy without probing it"),
        Fault("accept_unknown_key", "gateway", "any Bearer key is accepted, also one that is not in the database"),
    )
}


def fault_name(spec: str) -> str:
    """The name of a fault spec (`slow_model:phi3:2000` -> `slow_model`)."""
    return spec.split(":", 1)[0]


def validate_faults(specs: tuple[str, ...] | list[str]) -> None:
    """Raise ValueError naming the unknown faults and the known ones."""
    unknown = [spec for spec in specs if fault_name(spec) not in CATALOG]
    if unknown:
        raise ValueError(f"unknown fault(s) {', '.join(unknown)}; known faults: {', '.join(sorted(CATALOG))}")
