"""Which gates has no fault of the self-test catalog shown to fail? (issue 8: self-test completeness)

A gate here is a scenario: each Then of a scenario is a gate, and a scenario passes only when all of
them do. A scenario outline is one gate whatever its examples: they differ only in their numbers. A scenario is covered when a case of `test_fault_catalog.EXPECTED_FAILURES` expects it to fail,
or when `PROVEN_ELSEWHERE` names the test that makes it fail (a failure no stack fault can cause).

    .venv/bin/python -m tests.selftest.completeness     # lists the uncovered scenarios; exit 1 when any
"""
from __future__ import annotations

import re
import sys

from tests.harness import REPO_ROOT, dry_run
from tests.selftest.test_fault_catalog import EXPECTED_FAILURES

# Scenarios whose failure is caused by the suite's own circumstances, not by a fault of the stack.
PROVEN_ELSEWHERE = {
    "The stability run covers its full duration":
        "tests/stack/test_soak_resume.py: an interrupted run's duration gate fails as 'incomplete'",
}


def outline_titles() -> list[tuple[str, re.Pattern[str]]]:
    """Each scenario outline's title (`<model> answers ...`) with a pattern matching its examples' names."""
    titles = []
    for feature in sorted((REPO_ROOT / "features").rglob("*.feature")):
        for line in feature.read_text(encoding="utf-8").splitlines():
            title = line.strip().removeprefix("Scenario Outline:").strip()
            if line.strip().startswith("Scenario Outline:"):
                parts = re.split(r"<[^>]+>", title)
                titles.append((title, re.compile("^" + ".+?".join(re.escape(p) for p in parts) + "$")))
    return titles


def gate_of(name: str, titles: list[tuple[str, re.Pattern[str]]]) -> str:
    """The gate a scenario name belongs to: an outline's examples share one (their outline's title)."""
    return next((title for title, pattern in titles if pattern.match(name)), name)


def every_scenario() -> set[str]:
    """Every gate of the features: each scenario's name, each outline's title (its examples are one gate
    with other numbers: one of them shown failing covers the outline)."""
    titles = outline_titles()
    return {gate_of(name.split(" -- @")[0], titles) for name in dry_run(None)}


def covered() -> dict[str, list[str]]:
    """Gate (scenario name or outline title) -> the cases (or tests) that show it failing."""
    titles = outline_titles()
    cases: dict[str, list[str]] = {}
    for case, (_, expected) in EXPECTED_FAILURES.items():
        for scenario in expected:
            cases.setdefault(gate_of(scenario, titles), []).append(case)
    for scenario, test in PROVEN_ELSEWHERE.items():
        cases.setdefault(gate_of(scenario, titles), []).append(test)
    return cases


def uncovered() -> list[str]:
    """The scenarios no case shows failing (the list must be empty)."""
    return sorted(every_scenario() - set(covered()))


def unknown() -> list[str]:
    """Expected failures naming a scenario the features do not have (a renamed scenario)."""
    return sorted(set(covered()) - every_scenario())


def main() -> int:
    missing, stale = uncovered(), unknown()
    for name in missing:
        print(f"no fault makes this scenario fail: {name}")
    for name in stale:
        print(f"the self-test expects a scenario that does not exist: {name}")
    if not missing and not stale:
        print(f"every scenario is shown failing by at least one case of the self-test ({len(covered())} scenarios)")
    return 1 if missing or stale else 0


if __name__ == "__main__":
    sys.exit(main())
