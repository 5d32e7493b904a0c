"""The verdict of a percentile gate at the profile's stated confidence (citadel_acceptance.load.confidence).

Every percentile gate of every domain judges the same way: the upper bound of the percentile at the confidence
of `percentile.confidence` against the gate; no sample is "no data"; too few samples for a bound fail and say
how many it would take. The evidence keeps n, the rank of the bound, the nearest-rank estimate and the
confidence.
"""
from __future__ import annotations

from typing import Sequence

from citadel_acceptance.config.thresholds import Gate
from citadel_acceptance.load.confidence import upper_bound
from citadel_acceptance.verdict import Verdict


def percentile_verdict(gate: Gate, samples: Sequence[float], confidence: float, name: str, formula: str,
                       p: float = 95, scale: float = 1.0) -> Verdict:
    """The p-th percentile of `samples` (times `scale`, in the gate's unit) at `confidence` against `gate`."""
    bound = upper_bound(samples, p, confidence)
    statement = bound.describe(scale, gate.unit)
    details = {"n": bound.n, "confidence": confidence, "rank": bound.rank, "needed": bound.needed,
               "estimate": None if bound.estimate is None else round(bound.estimate * scale, 3)}
    if bound.n == 0:
        verdict = gate.check(0.0, name, formula, n=0)
        return Verdict(**{**verdict.__dict__, "details": {**verdict.details, **details}})
    if bound.value is None:
        scope = f" for {gate.model}" if gate.model else ""
        text = (f"{name}{scope}: not enough samples to judge: {statement}; expected {gate.compare} "
                f"{gate.applied:g} {gate.unit} at {confidence * 100:g} % confidence (a longer window, or more "
                "repetitions, gives enough)")
        return Verdict(name=name, passed=False, explanation=text, formula=formula, measured=None, unit=gate.unit,
                       gate=gate, details=details)
    verdict = gate.check(round(bound.value * scale, 3), name, f"{formula}; {bound.method}", n=bound.n)
    return Verdict(**{**verdict.__dict__, "explanation": f"{verdict.explanation} ({statement})",
                      "details": {**verdict.details, **details}})
