"""Which Then-steps has nothing shown to fail? (issue 16: completeness per Then-step)

A gate here is a Then-step: a Then, or an And or But after it, of a scenario; each example row of an outline counts
apart (its numbers differ). A scenario stops at its first failing step, so one failing Then shows nothing about the
Thens after it: a step is covered only by a case whose scenario fails at that very step. It is covered when

- a case of `test_fault_catalog.EXPECTED_FAILURES` expects its scenario to fail at it: `At(step, reason)`, or a bare
  reason where the scenario has a single Then-step (the fault test checks the step the scenario stopped at; an
  `Early(reason)`, a failure before the Thens, covers no step), or
- `PROVEN_ELSEWHERE` names the test that makes it fail (a failure no fault of the embedded stack can cause alone).

    .venv/bin/python -m tests.selftest.completeness     # lists the uncovered steps; exit 1 when any
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from citadel_acceptance.report import inventory
from tests.harness import REPO_ROOT
from tests.selftest.expectations import At, Early, step_matches
from tests.selftest.test_fault_catalog import EXPECTED_FAILURES, MODELS

RATED = "{} answers within its latency target at its rated load"
THEN_STEPS_TEST = "tests/unit/test_then_steps_fail.py"

# (scenario, Then-step) -> the test that makes that step fail: a failure caused by the suite's own circumstances,
# or by a deployment the embedded stack cannot play without breaking an earlier step first.
PROVEN_ELSEWHERE: dict[tuple[str, str], str] = {
    ("The stability run covers its full duration", "the run covered at least <hours> hours of normal load"):
        "tests/stack/test_soak_resume.py::test_an_interrupted_soak_is_incomplete_and_resumes_from_its_checkpoint",
    **{(RATED.format(model), "the model sustains its rated throughput"):
       f"{THEN_STEPS_TEST}::test_a_load_offered_at_half_the_rate_fails_sustains_its_rated_throughput" for model in MODELS},
    ("200 connections at once are all served, and released afterwards", "the number of open connections returns to its baseline"):
        f"{THEN_STEPS_TEST}::test_connections_still_open_after_the_burst_fail_the_return_to_baseline",
    ("CPU and memory stay within their limits under normal load", "memory use stays below 85 %"):
        f"{THEN_STEPS_TEST}::test_memory_in_use_above_the_limit_fails_memory_use_stays_below",
    ("20 similarity searches at once all succeed within the target", "all of them succeed"):
        f"{THEN_STEPS_TEST}::test_a_refused_search_of_twenty_fails_all_of_them_succeed",
    ("A configuration change is audited and rolled back", "the rollback restores the original value and is audited too"):
        f"{THEN_STEPS_TEST}::test_a_rollback_that_restores_nothing_fails_the_rollback_step",
    ("With the vector store down, chat is served and retrieval is refused as unavailable",
     "the question without retrieval is answered"):
        f"{THEN_STEPS_TEST}::test_a_chat_refused_while_the_vector_store_is_down_fails_the_question_without_retrieval",
    ("The components hold their own line", "the application's database role is not a superuser"):
        f"{THEN_STEPS_TEST}::test_a_superuser_application_role_fails_the_components_first_line",
    ("A snapshot of the documents collection restores with every point", "the snapshot restores into a collection with the same points"):
        f"{THEN_STEPS_TEST}::test_a_snapshot_that_restores_fewer_points_fails_the_round_trip",
    ("The gateway does not leak memory", "its forecast for 24 hours later stays under <limit_mb> MB"):
        f"{THEN_STEPS_TEST}::test_a_gateway_near_its_memory_limit_fails_the_24_hour_forecast_though_it_grows_slowly",
}


@dataclass(frozen=True)
class ThenStep:
    """One gate: a Then-step of one scenario (an example row is a scenario of its own)."""

    scenario: str
    step: str

    def __str__(self) -> str:
        return f"{self.scenario}: Then {self.step}"


@lru_cache(maxsize=1)
def then_steps() -> dict[str, list[str]]:
    """Every scenario (each example row apart) -> its Then-steps, as behave renders them (one dry run per process;
    callers read it, never change it)."""
    features = inventory.dry_run(REPO_ROOT / "features")
    assert features is not None, "behave could not read the features"
    steps: dict[str, list[str]] = {}
    for feature in features:
        for element in feature.get("elements", []):
            if element.get("type") == "scenario":
                steps[element["name"].split(" -- @")[0]] = [s["name"] for s in element.get("steps", [])
                                                            if s.get("step_type") == "then"]
    return steps


def covered(steps: dict[str, list[str]] | None = None) -> tuple[dict[ThenStep, list[str]], list[str]]:
    """Then-step -> the cases (or tests) that show it failing, and the problems of the expectations themselves (a
    scenario or step the features do not have, a bare reason where the scenario has several Then-steps)."""
    steps = then_steps() if steps is None else steps
    cases: dict[ThenStep, list[str]] = {}
    problems: list[str] = []

    def cover(scenario: str, step: str | None, by: str) -> None:
        if scenario not in steps:
            problems.append(f"{by} expects a scenario the features do not have: {scenario}")
        elif step is None and len(steps[scenario]) != 1:
            problems.append(f"{by} expects {scenario!r} to fail without naming which of its {len(steps[scenario])} "
                            "Then-steps: write At(step, reason)")
        else:
            found = [s for s in steps[scenario] if step is None or step_matches(step, s)]
            if not found:
                problems.append(f"{by} expects {scenario!r} to fail at a step it does not have: {step}")
            for rendered in found[:1]:
                cases.setdefault(ThenStep(scenario, rendered), []).append(by)

    for case, (_, expected) in EXPECTED_FAILURES.items():
        for scenario, expectation in expected.items():
            if not isinstance(expectation, Early):
                cover(scenario, expectation.step if isinstance(expectation, At) else None, case)
    for (scenario, step), test in PROVEN_ELSEWHERE.items():
        path, _, name = test.partition("::")
        if f"def {name}(" not in (REPO_ROOT / path).read_text(encoding="utf-8"):
            problems.append(f"the test named for {scenario!r} does not exist: {test}")
        cover(scenario, step, test)
    return cases, problems


def uncovered() -> list[ThenStep]:
    """The Then-steps nothing shows failing (the list must be empty)."""
    steps = then_steps()
    shown, _ = covered(steps)
    return [ThenStep(scenario, step) for scenario, names in sorted(steps.items()) for step in names
            if ThenStep(scenario, step) not in shown]


def unknown() -> list[str]:
    """Expectations that name no Then-step of the features (a renamed scenario or step, an unnamed step)."""
    return covered()[1]


def main() -> int:
    missing, stale = uncovered(), unknown()
    for gate in missing:
        print(f"nothing makes this step fail: {gate}")
    for problem in stale:
        print(problem)
    if not missing and not stale:
        print(f"every Then-step is shown failing by a case of the self-test or a named test ({len(covered()[0])} steps)")
    return 1 if missing or stale else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    sys.exit(main())
