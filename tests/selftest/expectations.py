"""How the self-test states where a scenario must fail: at which step, for which reason.

A bare string is the reason a scenario with a single Then-step fails at that step; `At` names the Then-step of a
scenario with several; `Early` is a failure before the Thens (a Given or a When: the fault breaks what the gates
measure), which shows the scenario failing but proves no Then-step (tests/selftest/completeness.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class At:
    """The scenario fails at `step` (its text as written, an outline's `<name>` matching any value) for `reason`."""

    step: str
    reason: str


@dataclass(frozen=True)
class Early:
    """The scenario fails before its Then-steps, in a Given or a When, for `reason`."""

    reason: str


Expectation = str | At | Early


def reason_of(expectation: Expectation) -> str:
    """The fragment the failure message must contain."""
    return expectation if isinstance(expectation, str) else expectation.reason


def step_matches(expected: str, rendered: str) -> bool:
    """Whether a step as written (an outline's `<name>` placeholders match any value) is the step behave rendered."""
    parts = re.split(r"<[^>]+>", expected)
    return re.fullmatch(".+?".join(re.escape(p) for p in parts), rendered) is not None


def step_problem(expectation: Expectation, step_type: str | None, step: str | None) -> str | None:
    """Why the step a scenario stopped at is not the expected one, or None."""
    where = f"{step_type} step {step!r}" if step_type else "no failed step"
    if isinstance(expectation, Early):
        return None if step_type in ("given", "when") else f"expected to fail before its Then-steps, failed at {where}"
    if step_type != "then":
        return f"expected to fail at a Then-step, failed at {where}"
    if isinstance(expectation, At) and not step_matches(expectation.step, step or ""):
        return f"expected to fail at {expectation.step!r}, failed at {where}"
    return None
