"""The catalog of faults the embedded stack can be started with, for the suite's self-test only.

A fault is named at launch (`--fault NAME`, or `-D faults=NAME,...` for behave). Each one breaks one
promise of the contract, so that the scenario guarding that promise can be shown to fail.
"""
from __future__ import annotations

from dataclasses import dataclass

from citadel_stack.gateway.faults import KNOWN_FAULTS as GATEWAY_FAULTS
from citadel_stack.vector_store.faults import KNOWN_FAULTS as VECTOR_STORE_FAULTS


@dataclass(frozen=True)
class Fault:
    """One injectable defect: the part it breaks and what it does."""

    name: str
    part: str
    description: str


STACK_FAULTS = (
    Fault("vector_store_down", "stack", "the vector store is stopped once the stack has started"),
    Fault("pg_max_connections", "postgres", "pg_max_connections:N starts PostgreSQL with max_connections=N"),
    Fault("app_role_can_ddl", "postgres", "the gateway's application role may create tables in the public schema"),
    Fault("table_lock", "postgres", "table_lock:MS holds an exclusive lock on the gateway's tables MS ms at a time, releasing it "
          "for 10 ms in between (a maintenance job that blocks everyone)"),
    Fault("no_restart", "stack", "no supervisor: a part that crashes stays down"),
    Fault("vector_store_no_auth", "stack", "the vector store starts without an API key: anyone may use it"),
    Fault("broken_backup", "stack", "the backup tool writes a dump cut in half"),
    Fault("cpu_hog", "stack", "two busy-looping processes keep both CPU cores occupied while the stack runs"),
    Fault("rule_file_not_loaded", "prometheus", "rule_file_not_loaded:NAME leaves rules/NAME.yml out of Prometheus' rule_files"),
    Fault("scrape_target_down", "prometheus", "scrape_target_down:JOB makes Prometheus scrape JOB at a wrong metrics path: the target is down"),
    Fault("slow_scrape", "prometheus", "slow_scrape:SECONDS scrapes the vector store only every SECONDS s"),
    Fault("disk_fill", "stack", "disk_fill:MB_PER_S reserves disk space at MB_PER_S a second (up to 15 GB, a quarter of the free space at most): storage runs out soon"),
    Fault("model_crash_every", "stack", "model_crash_every:S kills the chat model service every S seconds "
          "(SIGKILL) and starts it again 3 s later, as a supervisor would"),
)
CATALOG: dict[str, Fault] = {
    # Faults of the gateway and of the vector store are defined (and honoured) by those parts themselves.
    **{name: Fault(name, "gateway", fault.description) for name, fault in GATEWAY_FAULTS.items()},
    **{name: Fault(name, "vector_store", fault.description) for name, fault in VECTOR_STORE_FAULTS.items()},
    **{fault.name: fault for fault in STACK_FAULTS},
}


def for_part(specs: tuple[str, ...] | list[str], part: str) -> list[str]:
    """The fault specs that one part of the stack honours."""
    return [spec for spec in specs if CATALOG[fault_name(spec)].part == part]


def argument(specs: tuple[str, ...] | list[str], name: str) -> str | None:
    """The argument of fault `name` (`pg_max_connections:100` -> "100"), "" without one, None when absent."""
    for spec in specs:
        if fault_name(spec) == name:
            return spec.partition(":")[2]
    return None


def fault_name(spec: str) -> str:
    """The name of a fault spec (`slow_model:phi3:2000` -> `slow_model`)."""
    return spec.split(":", 1)[0]


def validate_faults(specs: tuple[str, ...] | list[str]) -> None:
    """Raise ValueError naming the unknown faults and the known ones."""
    unknown = [spec for spec in specs if fault_name(spec) not in CATALOG]
    if unknown:
        raise ValueError(f"unknown fault(s) {', '.join(unknown)}; known faults: {', '.join(sorted(CATALOG))}")
