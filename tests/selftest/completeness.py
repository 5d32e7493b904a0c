"""Which gates has no fault of the self-test catalog shown to fail? (issue 8: self-test completeness)

A gate here is a scenario: each Then of a scenario is a gate, and a scenario passes only when all of
them do. A scenario is covered when a case of `test_fault_catalog.EXPECTED_FAILURES` expects it to fail,
or when `PROVEN_ELSEWHERE` names the test that makes it fail (a failure no stack fault can cause).

    .venv/bin/python -m tests.selftest.completeness     # lists the uncovered scenarios; exit 1 when any
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.harness import dry_run
from tests.selftest.test_fault_catalog import EXPECTED_FAILURES

# Scenarios whose failure is caused by the suite's own circumstances, not by a fault of the stack.
PROVEN_ELSEWHERE = {
    "The stability run covers its full duration":
        "tests/stack/test_soak_resume.py: an interrupted run's duration gate fails as 'incomplete'",
}


def every_scenario(scratch: Path) -> set[str]:
    """The name of every scenario of the features (an outline's examples under the outline's name)."""
    return {name.split(" -- @")[0] for name in dry_run(scratch, None)}


def covered() -> dict[str, list[str]]:
    """Scenario name -> the cases (or tests) that show it failing."""
    cases: dict[str, list[str]] = {}
    for case, (_, expected) in EXPECTED_FAILURES.items():
        for scenario in expected:
            cases.setdefault(scenario, []).append(case)
    for scenario, test in PROVEN_ELSEWHERE.items():
        cases.setdefault(scenario, []).append(test)
    return cases


def uncovered(scratch: Path) -> list[str]:
    """The scenarios no case shows failing (the list must be empty)."""
    return sorted(every_scenario(scratch) - set(covered()))


def unknown(scratch: Path) -> list[str]:
    """Expected failures naming a scenario the features do not have (a renamed scenario)."""
    return sorted(set(covered()) - every_scenario(scratch))


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        missing, stale = uncovered(Path(scratch) / "a"), unknown(Path(scratch) / "b")
    for name in missing:
        print(f"no fault makes this scenario fail: {name}")
    for name in stale:
        print(f"the self-test expects a scenario that does not exist: {name}")
    if not missing and not stale:
        print(f"every scenario is shown failing by at least one case of the self-test ({len(covered())} scenarios)")
    return 1 if missing or stale else 0


if __name__ == "__main__":
    sys.exit(main())
