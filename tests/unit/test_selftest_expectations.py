"""The self-test's own rules: where a scenario must stop (tests/selftest/expectations.py) and which Then-steps that
covers (tests/selftest/completeness.py), on a made-up inventory (the real one needs behave: the slow tests use it)."""
from __future__ import annotations

from tests.selftest import completeness
from tests.selftest.expectations import At, Early, step_matches, step_problem

STEPS = {"phi3 answers": ["the answer is complete", "the answer arrives within 2000 ms"], "one gate": ["it holds"]}


def test_a_step_written_with_placeholders_matches_every_row_rendered_from_it():
    assert step_matches("the answer arrives within <response_ms> ms", "the answer arrives within 2000 ms")
    assert not step_matches("the answer arrives within <response_ms> ms", "the answer is complete")
    assert step_matches('the answer comes from "<model>"', 'the answer comes from "phi3"')


def test_a_scenario_that_stops_elsewhere_than_expected_is_named():
    assert step_problem("timeout", "then", "it holds") is None
    assert "failed at given step 'a user'" in step_problem("timeout", "given", "a user")
    assert step_problem(At("the answer arrives within <ms> ms", "x"), "then", "the answer arrives within 300 ms") is None
    assert "expected to fail at 'the answer arrives" in step_problem(At("the answer arrives within <ms> ms", "x"), "then",
                                                                        "the answer is complete")
    assert step_problem(Early("x"), "when", "a user asks") is None
    assert "before its Then-steps" in step_problem(Early("x"), "then", "it holds")
    assert "no failed step" in step_problem("x", None, None)


def test_only_the_step_a_case_stops_at_is_covered_and_a_bare_reason_needs_a_single_then(monkeypatch):
    monkeypatch.setattr(completeness, "PROVEN_ELSEWHERE", {})
    monkeypatch.setattr(completeness, "EXPECTED_FAILURES", {
        "slow": ("@chat", {"phi3 answers": At("the answer arrives within <ms> ms", "too slow"), "one gate": "broken"}),
        "down": ("@chat", {"phi3 answers": Early("unavailable")})})
    shown, problems = completeness.covered(STEPS)
    assert set(shown) == {completeness.ThenStep("phi3 answers", "the answer arrives within 2000 ms"),
                          completeness.ThenStep("one gate", "it holds")} and problems == []
    monkeypatch.setattr(completeness, "EXPECTED_FAILURES", {"vague": ("@chat", {"phi3 answers": "too slow", "gone": "x"})})
    shown, problems = completeness.covered(STEPS)
    assert not shown and len(problems) == 2
    assert "without naming which of its 2 Then-steps" in problems[0] and "the features do not have: gone" in problems[1]


def test_a_named_test_that_does_not_exist_is_a_problem(monkeypatch):
    monkeypatch.setattr(completeness, "EXPECTED_FAILURES", {})
    monkeypatch.setattr(completeness, "PROVEN_ELSEWHERE", {("one gate", "it holds"): f"{completeness.THEN_STEPS_TEST}::test_nowhere"})
    shown, problems = completeness.covered(STEPS)
    assert "the test named for 'one gate' does not exist" in problems[0]
