"""Thresholds and gates: the plan's number (spec), the number applied, and where each came from.

The feature file states the spec value; the profile may override it with a reason. A gate whose
applied value is looser than its spec is *relaxed*: the run can pass, but it is not ready for
handover.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Callable

from citadel_acceptance.errors import SuiteConfigError

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Gate:
    """One resolved target for one check (and one model, where targets differ per model)."""

    key: str
    model: str | None
    compare: str
    unit: str
    spec: float
    spec_source: str
    applied: float
    applied_source: str
    reason: str

    @property
    def relaxed(self) -> bool:
        """True when the applied value lets through something the spec value would not."""
        if self.compare in ("<", "<="):
            return self.applied > self.spec
        if self.compare in (">", ">="):
            return self.applied < self.spec
        return self.applied != self.spec

    def holds(self, measured: float) -> bool:
        """Whether a measured value meets the applied target."""
        return _OPERATORS[self.compare](measured, self.applied)

    def check(self, measured: float, name: str, formula: str, where: str = "", n: int | None = None):
        """The verdict of this gate for a measured value (see citadel_acceptance.verdict)."""
        from citadel_acceptance.verdict import Verdict

        passed = self.holds(measured)
        scope = f" for {self.model}" if self.model else ""
        sample = f" (n={n})" if n is not None else ""
        relax = f"; relaxed from the spec {self.spec:g} {self.unit}: {self.reason}" if self.relaxed else ""
        text = (
            f"{name}{scope}: expected {self.compare} {self.applied:g} {self.unit}, "
            f"measured {measured:g} {self.unit}{sample}{' at ' + where if where else ''}{relax}"
        )
        return Verdict(name=name, passed=passed, explanation=text, formula=formula,
                       measured=measured, unit=self.unit, gate=self, details={"n": n} if n is not None else {})

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view for the evidence."""
        return {
            "key": self.key, "model": self.model, "compare": self.compare, "unit": self.unit,
            "spec": self.spec, "spec_source": self.spec_source, "applied": self.applied,
            "applied_source": self.applied_source, "reason": self.reason, "relaxed": self.relaxed,
        }


class Thresholds:
    """Resolves gates from the profile's `[targets]` and `[overrides]` tables."""

    def __init__(self, profile_name: str, targets: dict[str, Any], overrides: dict[str, Any]) -> None:
        self.profile_name = profile_name
        self._targets = targets
        self._overrides = overrides
        self.resolved: list[Gate] = []

    @classmethod
    def from_profile(cls, profile: Any) -> Thresholds:
        """The targets of a loaded profile."""
        return cls(profile.name, profile.raw.get("targets", {}), profile.raw.get("overrides", {}))

    def resolve(self, key: str, spec: float | None = None, model: str | None = None) -> Gate:
        """The gate for `key`: spec from the feature file when given, else the profile's plan value."""
        target = self._targets.get(key)
        if target is None:
            raise SuiteConfigError(
                f"the gate {key!r} has no target in profile {self.profile_name!r}: add [targets.\"{key}\"]"
            )
        plan_value = _pick(target, model)
        plan_source = target.get("source", "profile")
        if spec is not None:
            spec_value, spec_source = float(spec), f"feature file (plan {plan_source})"
        elif plan_value is not None:
            described = "set by the profile, not by the plan" if plan_source == "profile" else f"plan {plan_source}"
            spec_value, spec_source = float(plan_value), f"profile {self.profile_name} ({described})"
        else:
            raise SuiteConfigError(f"target {key!r} has no value for model {model!r} in profile {self.profile_name!r}")
        applied, applied_source, reason = spec_value, "spec", ""
        override = self._overrides.get(key)
        if override is not None:
            value = _pick(override, model)
            if value is not None:
                applied = float(value)
                applied_source = f"profile {self.profile_name} override"
                reason = override.get("reason", "")
        gate = Gate(key=key, model=model, compare=target["compare"], unit=target.get("unit", ""),
                    spec=spec_value, spec_source=spec_source, applied=applied,
                    applied_source=applied_source, reason=reason)
        self.resolved.append(gate)
        return gate

    def defines(self, key: str) -> bool:
        """Whether the profile sets a target for `key` (some gates only report without one)."""
        return key in self._targets

    def relaxed(self) -> list[Gate]:
        """Every gate resolved so far whose applied value is looser than its spec (one per key and model)."""
        unique = {(g.key, g.model): g for g in self.resolved if g.relaxed}
        return list(unique.values())


def _pick(table: dict[str, Any], model: str | None) -> float | None:
    per_model = table.get("per_model")
    if per_model and model is not None and model in per_model:
        return per_model[model]
    return table.get("value")
