"""Verdicts: what a gate measured, what it was held to, and whether it passed."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from citadel_acceptance.config.thresholds import Gate


@dataclass(frozen=True)
class Verdict:
    """The outcome of one gate. `explanation` says what was expected, what was seen, and where."""

    name: str
    passed: bool
    explanation: str
    formula: str = ""
    measured: float | str | None = None
    unit: str = ""
    gate: Gate | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_problems(cls, name: str, problems: list[str], formula: str, where: str, **details: Any) -> Verdict:
        """A functional check: it passes when no problem was found."""
        if problems:
            text = f"{name} failed at {where}: " + "; ".join(problems)
        else:
            text = f"{name}: every expectation held at {where}"
        return cls(name=name, passed=not problems, explanation=text, formula=formula, details=dict(details))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view for the evidence."""
        data = asdict(self)
        data["gate"] = self.gate.as_dict() if self.gate is not None else None
        data["verdict"] = "passed" if self.passed else "failed"
        return data
