"""Thresholds and gates: the plan's number (spec), the number applied, and where each came from.

The profile's `[thresholds."KEY"]` tables hold every number of the plan and `[overrides."KEY"]` the
ones a profile relaxes (or tightens), with a reason. The feature file states the spec value; a gate
whose applied value is looser than its spec is *relaxed*: the run can pass, but it is not ready for
handover.
"""
from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from citadel_acceptance.config.convert import frozen_map, value
from citadel_acceptance.errors import SuiteConfigError

if TYPE_CHECKING:
    from citadel_acceptance.config.profile import Profile
    from citadel_acceptance.verdict import Verdict

COMPARISONS = ("<", "<=", ">", ">=", "==")
CAPACITY_FIGURE = "chat_capacity_rps"  # the calibration figure a load's rate may be capped by (capped_rate)
Calibration = Mapping[str, float] | Callable[[], Mapping[str, float]] | None

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Threshold:
    """One `[thresholds."KEY"]`: how a measured value must compare to the plan's number (one number, or one
    per model or resource), its unit, and the planning document it comes from ("profile": the plan gives none)."""

    compare: str
    unit: str = ""
    source: str = "profile"
    value: float | None = None
    per_model: Mapping[str, float] = field(default_factory=frozen_map)

    def pick(self, model: str | None) -> float | None:
        """The number for `model` (its own where it has one), else the single value."""
        return _pick(self.value, self.per_model, model)


@dataclass(frozen=True)
class ThresholdOverride:
    """One `[overrides."KEY"]`: the number a profile applies instead of the plan's, and why.

    `calibrated` names a figure the target measured on this machine (see citadel_acceptance.target.calibration):
    the applied number is then `factor` times that figure, used only where it is looser than the plan's
    (a fast machine keeps the plan's number, and nothing is relaxed).
    """

    value: float | None = None
    per_model: Mapping[str, float] = field(default_factory=frozen_map)
    reason: str = ""
    calibrated: str = ""
    factor: float = 1.0

    def pick(self, model: str | None) -> float | None:
        """The number for `model` (its own where it has one), else the single value."""
        return _pick(self.value, self.per_model, model)


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

    def check(self, measured: float, name: str, formula: str, where: str = "", n: int | None = None) -> Verdict:
        """The verdict of this gate for a measured value (see citadel_acceptance.verdict); `n` = 0 (nothing was
        measured) fails with "no data", whatever the value."""
        from citadel_acceptance.verdict import Verdict

        scope = f" for {self.model}" if self.model else ""
        relax = f"; relaxed from the spec {self.spec:g} {self.unit}: {self.reason}" if self.relaxed else ""
        if n == 0:  # a value of nothing (a p95 of no sample, 0 % errors of no request) proves nothing
            text = (f"{name}{scope}: no data: not one sample was measured{' at ' + where if where else ''}, "
                    f"so nothing shows it {self.compare} {self.applied:g} {self.unit}{relax}")
            return Verdict(name=name, passed=False, explanation=text, formula=formula, measured=None, unit=self.unit,
                           gate=self, details={"n": 0})
        passed = self.holds(measured)
        sample = f" (n={n})" if n is not None else ""
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
    """Resolves gates from the profile's `[thresholds]` and `[overrides]` sections."""

    def __init__(self, profile_name: str, thresholds: Mapping[str, Threshold],
                 overrides: Mapping[str, ThresholdOverride], calibration: Calibration = None,
                 plan: Mapping[str, Threshold] | None = None) -> None:
        self.profile_name = profile_name
        self._thresholds = thresholds
        self._overrides = overrides
        self._calibration = calibration
        self._plan = plan if plan is not None else thresholds  # the plan's numbers and directions (see from_profile)
        self._specs_checked = plan is not None  # a feature file's number must be the plan's (see resolve)
        self.resolved: list[Gate] = []

    @property
    def calibration(self) -> dict[str, float]:
        """The target's calibration figures, measured at the first gate that needs them (a callable is asked once)."""
        if callable(self._calibration):
            self._calibration = dict(self._calibration())
        return dict(self._calibration or {})

    @classmethod
    def from_profile(cls, profile: Profile, calibration: Calibration = None) -> Thresholds:
        """The thresholds of a loaded profile; `calibration` gives the figures the target measured, if any (a mapping,
        or a callable measuring them when the first calibrated gate is resolved).

        The plan profile's thresholds are the reference: a gate's direction is the plan's (a profile that turns one
        round is refused), and a profile's own number looser than the plan's is applied as relaxed, never as spec."""
        plan = plan_thresholds()
        turned = [f"thresholds.{key}.compare is {t.compare!r}, the plan's is {plan[key].compare!r}"
                  for key, t in profile.thresholds.items() if key in plan and t.compare != plan[key].compare]
        if turned:
            raise SuiteConfigError(f"profile {profile.name!r} turns a gate round: {'; '.join(turned)}. A gate's "
                                   f"direction comes from the plan ({PLAN_PROFILE}); relax a number with an override "
                                   "and its reason instead")
        return cls(profile.name, profile.thresholds, profile.overrides, calibration, plan)

    @classmethod
    def from_tables(cls, profile_name: str, thresholds: Mapping[str, Any], overrides: Mapping[str, Any],
                    calibration: Calibration = None) -> Thresholds:
        """Thresholds from tables written as a profile writes them (checked like a profile's)."""
        where = Path(f"<{profile_name}>")
        typed = value(dict(thresholds), Mapping[str, Threshold], "thresholds", where)
        typed_overrides = value(dict(overrides), Mapping[str, ThresholdOverride], "overrides", where)
        problems = threshold_problems(typed, typed_overrides)
        if problems:
            raise SuiteConfigError(f"profile {where}: " + "; ".join(problems))
        return cls(profile_name, typed, typed_overrides, calibration)

    def resolve(self, key: str, spec: float | None = None, model: str | None = None) -> Gate:
        """The gate for `key`: spec from the feature file when given, else the profile's plan value."""
        threshold = self._thresholds.get(key)
        if threshold is None:
            raise SuiteConfigError(
                f"the gate {key!r} has no threshold in profile {self.profile_name!r}: add [thresholds.\"{key}\"]"
            )
        reference = self._plan.get(key, threshold)
        compare = reference.compare
        plan_value = reference.pick(model)
        plan_source = reference.source
        own = threshold.pick(model)
        if spec is not None and self._specs_checked and key in self._plan and plan_value is not None \
                and float(spec) != float(plan_value):
            of = f" of {model}" if model else ""
            raise SuiteConfigError(
                f"the feature file states {float(spec):g} for {key!r}{of} where the plan profile ({PLAN_PROFILE}) says "
                f"{float(plan_value):g}: a feature file restates the plan; correct whichever of the two is wrong")
        if spec is not None:
            spec_value, spec_source = float(spec), f"feature file (plan {plan_source})"
        elif plan_value is not None:
            described = "set by the profile, not by the plan" if plan_source == "profile" else f"plan {plan_source}"
            named = PLAN_PROFILE if reference is not threshold else self.profile_name
            spec_value, spec_source = float(plan_value), f"profile {named} ({described})"
        elif own is not None:
            spec_value, spec_source = float(own), f"profile {self.profile_name} (the plan gives no number)"
        else:
            raise SuiteConfigError(f"threshold {key!r} has no value for model {model!r} in profile {self.profile_name!r}")
        applied, applied_source, reason = spec_value, "spec", ""
        if spec is None and own is not None and float(own) != spec_value:  # the profile's own number, not the plan's
            applied, applied_source = float(own), f"profile {self.profile_name} [thresholds] (not the plan's number)"
            reason = f"profile {self.profile_name} sets thresholds.{key} to {float(own):g} where the plan says {spec_value:g}"
        override = self._overrides.get(key)
        if override is not None and override.calibrated:
            applied, applied_source, reason = self._calibrated(key, override, compare, applied)
        elif override is not None:
            overridden = override.pick(model)
            if overridden is not None:
                applied = float(overridden)
                applied_source = f"profile {self.profile_name} override"
                reason = override.reason
        gate = Gate(key=key, model=model, compare=compare, unit=threshold.unit,
                    spec=spec_value, spec_source=spec_source, applied=applied,
                    applied_source=applied_source, reason=reason)
        self.resolved.append(gate)
        return gate

    def _calibrated(self, key: str, override: ThresholdOverride, compare: str, spec: float) -> tuple[float, str, str]:
        """(applied, source, reason) of an override relative to a calibration figure; the plan's number where
        the calibrated one would be stricter."""
        figure = override.calibrated
        figures = self.calibration
        if figure not in figures:
            measured = ", ".join(sorted(figures)) or "none"
            raise SuiteConfigError(
                f"the override of {key!r} in profile {self.profile_name!r} is relative to the calibration figure "
                f"{figure!r}, which this target did not measure (measured: {measured}); only the embedded stack "
                "calibrates: give the override a `value` for another target")
        measured = float(figures[figure])
        calibrated = round(override.factor * measured, 3)
        looser = calibrated > spec if compare in ("<", "<=") else calibrated < spec
        source = (f"calibrated on this machine: {override.factor:g} x {figure} "
                  f"({measured:g}, measured when the stack started)")
        if not looser:
            return spec, f"the plan's value (the calibrated {calibrated:g} = {source} is not looser)", ""
        return calibrated, source, f"{override.reason} [{source}]"

    def capped_rate(self, rate: float, share: float, setting: str) -> tuple[float, str]:
        """A load's rate and where it comes from: `rate` (the profile's `setting`), or, where `share` > 0 and the
        target measured its chat capacity, that share of the capacity when it is lower (a fixed rate near a slow
        machine's capacity keeps its cores busy and queues: it measures the machine, not the system)."""
        if share > 0:
            capacity = self.calibration.get(CAPACITY_FIGURE)
            if capacity and share * capacity < rate:
                capped = round(share * capacity, 3)
                return capped, (f"{capped:g} req/s: {share:g} x the calibrated capacity of {capacity:g} answers/s "
                                f"(the profile's {setting} is {rate:g})")
        return rate, f"{rate:g} req/s: the profile's {setting}"

    def confidence(self) -> float:
        """The confidence every percentile gate states (`percentile.confidence`; 0: none, the nearest-rank
        estimate); resolved like any threshold, so a lower one is relaxed and listed."""
        return self.resolve(CONFIDENCE_KEY).applied

    def defines(self, key: str) -> bool:
        """Whether the profile sets a threshold for `key` (some gates only report without one)."""
        return key in self._thresholds

    def relaxed(self) -> list[Gate]:
        """Every gate resolved so far whose applied value is looser than its spec (one per key and model)."""
        unique = {(g.key, g.model): g for g in self.resolved if g.relaxed}
        return list(unique.values())


CONFIDENCE_KEY = "percentile.confidence"  # see citadel_acceptance.load.confidence
PLAN_PROFILE = "citadel-mvp2"  # the MVP-2 plan's own numbers: the reference of every gate
_PLAN: dict[str, Mapping[str, Threshold]] = {}


def plan_thresholds() -> Mapping[str, Threshold]:
    """The plan profile's thresholds (loaded once)."""
    if PLAN_PROFILE not in _PLAN:
        from citadel_acceptance.config.profile import load_profile

        _PLAN[PLAN_PROFILE] = load_profile(PLAN_PROFILE).thresholds
    return _PLAN[PLAN_PROFILE]


def threshold_problems(thresholds: Mapping[str, Threshold], overrides: Mapping[str, ThresholdOverride]) -> list[str]:
    """What a type cannot say about the two sections: known comparisons, a number for every threshold,
    overrides only of defined thresholds, and a reason for each."""
    problems = []
    for name, threshold in thresholds.items():
        if threshold.compare not in COMPARISONS:
            problems.append(f"thresholds.{name}.compare must be one of {COMPARISONS}, not {threshold.compare!r}")
        if threshold.value is None and not threshold.per_model:
            problems.append(f"thresholds.{name} needs `value` or `per_model`")
    for name, override in overrides.items():
        if override.calibrated and (override.value is not None or override.per_model):
            problems.append(f"overrides.{name}: give either `calibrated` (with `factor`) or a value, not both")
        if override.calibrated and override.factor <= 0:
            problems.append(f"overrides.{name}.factor must be above 0, not {override.factor:g}")
        if name not in thresholds:
            problems.append(f"overrides.{name} overrides a threshold the profile does not define")
        if not override.reason:
            problems.append(f"overrides.{name} needs a `reason`: a relaxed threshold must say why")
    problems += _confidence_problems(thresholds.get(CONFIDENCE_KEY), overrides.get(CONFIDENCE_KEY))
    return problems


def confidence_problem(confidence: float) -> str:
    """Why a percentile's confidence cannot be used ("" when it can): 0 (none stated), or from 0.5 up to 1."""
    if confidence == 0 or 0.5 <= confidence < 1:
        return ""
    return (f"a percentile's confidence must be 0 (none stated: the nearest-rank estimate) or from 0.5 up to but "
            f"not including 1, not {confidence:g}")


def _confidence_problems(threshold: Threshold | None, override: ThresholdOverride | None) -> list[str]:
    """A percentile's confidence is 0 (none stated) or from 0.5 up to but not including 1, wherever it is set."""
    written = [(f"thresholds.{CONFIDENCE_KEY}", threshold.value if threshold else None),
               (f"overrides.{CONFIDENCE_KEY}", override.value if override else None)]
    return [f"{name}: {confidence_problem(value)}" for name, value in written
            if value is not None and confidence_problem(float(value))]


def _pick(single: float | None, per_model: Mapping[str, float], model: str | None) -> float | None:
    if per_model and model is not None and model in per_model:
        return per_model[model]
    return single
