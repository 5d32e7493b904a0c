"""Verdicts of the stability gates, from a `SoakResult`. An incomplete run has one verdict: "incomplete".

Keys of the profile's targets: `stability.duration_h`, `availability.percent`, `errors.rate_percent`,
`stability.latency_drift_ratio`, `stability.memory_slope_mb_per_h`, `stability.memory_forecast_mb`,
`stability.unplanned_restarts`.
"""
from __future__ import annotations

from typing import Any

from citadel_acceptance.checks.soak.analysis import MB, SoakResult
from citadel_acceptance.config.thresholds import Gate, Thresholds
from citadel_acceptance.verdict import Verdict

FORMULAS: dict[str, str] = {
    "duration": "soak seconds with the normal load applied (summed over resumes) / 3600",
    "availability": "healthy health checks / all health checks × 100; healthy = GET health answered 200 with status "
                    "'healthy' (one check per sampling interval)",
    "errors": "failed requests / all requests sent × 100; failed = non-2xx, broken stream or timeout",
    "drift": "p95 E2E of the last latency window / p95 E2E of the first (nearest rank over the window's successful "
             "requests; windows of equal length after the warm-up)",
    "memory_slope": "least-squares slope of the gateway's resident memory against soak time, samples after the "
                    "warm-up, MB (10^6 bytes) per hour",
    "memory_forecast": "fitted resident memory 24 h after the last sample: intercept + slope × (t_last + 86400 s), MB",
    "restarts": "processes of the parts (PID and start time) that ended or were replaced during the run",
}
GATE_KEYS: dict[str, str] = {
    "duration": "stability.duration_h", "availability": "availability.percent", "errors": "errors.rate_percent",
    "drift": "stability.latency_drift_ratio", "memory_slope": "stability.memory_slope_mb_per_h",
    "memory_forecast": "stability.memory_forecast_mb", "restarts": "stability.unplanned_restarts",
}


def _cannot(name: str, why: str, result: SoakResult) -> Verdict:
    return Verdict(name=name, passed=False, measured=None,
                   explanation=f"{name}: cannot be shown for stability run {result.run_id}: {why}")


def incomplete_verdict(result: SoakResult, resume_hint: str = "") -> Verdict:
    """The only verdict of an interrupted run: "incomplete", never passed."""
    last = result.interruptions[-1] if result.interruptions else {}
    why = f" ({last.get('reason')})" if last else ""
    text = (f"stability run {result.run_id}: incomplete: interrupted{why} after {result.elapsed_s:.0f} of "
            f"{result.duration_s:.0f} soak seconds; its checkpoint is kept. {resume_hint}").strip()
    return Verdict(name="stability run", passed=False, explanation=text, formula=FORMULAS["duration"],
                   measured="incomplete", unit="", details=result.summary())


def duration_verdict(result: SoakResult, gate: Gate) -> Verdict:
    """The soak's completed hours against the plan's 72 (an embedded profile relaxes it, with a reason)."""
    resumed = f", resumed {result.starts - 1} time(s)" if result.starts > 1 else ""
    return gate.check(round(result.duration_h, 4), "stability run duration", FORMULAS["duration"],
                      where=f"run {result.run_id}{resumed}", n=result.requests)


def availability_verdict(result: SoakResult, gate: Gate) -> Verdict:
    """Healthy health checks over all of them."""
    if result.availability_percent is None:
        return _cannot("availability", "no health check was made", result)
    if result.sample_gaps:
        gaps = ", ".join(f"{a:g}-{b:g} s" for a, b in result.sample_gaps[:5])
        return Verdict(name="availability", passed=False, measured=round(result.availability_percent, 3), unit="%",
                       formula=FORMULAS["availability"], gate=gate,
                       explanation=f"availability: the health checks do not cover the run: none during {gaps} of "
                                   f"{result.elapsed_s:.0f} s (more than {result.gap_allowed_s:g} s without a sample; "
                                   f"{result.samples} checks, {result.availability_percent:.1f} % healthy)")
    where = "every health check healthy" if not result.unhealthy else f"unhealthy: {', '.join(result.unhealthy[:5])}"
    return gate.check(round(result.availability_percent, 3), "availability", FORMULAS["availability"],
                      where=where, n=result.samples)


def error_verdict(result: SoakResult, gate: Gate) -> Verdict:
    """Failed requests over all requests of the soak."""
    if result.error_rate_percent is None:
        return _cannot("soak error rate", "no request was sent", result)
    kinds = ", ".join(f"{k}: {v}" for k, v in sorted(result.error_kinds.items())) or "none"
    return gate.check(round(result.error_rate_percent, 4), "soak error rate", FORMULAS["errors"],
                      where=f"{result.failed} of {result.requests} requests failed ({kinds})", n=result.requests)


def drift_verdict(result: SoakResult, gate: Gate) -> Verdict:
    """The last window's p95 over the first's."""
    ratio = result.drift_ratio
    if ratio is None:
        return _cannot("latency drift", f"fewer than two latency windows have successful requests "
                                        f"({len(result.measured_windows)} of {len(result.windows)})", result)
    first, last = result.measured_windows[0], result.measured_windows[-1]
    return gate.check(round(ratio, 3), "latency drift", FORMULAS["drift"],
                      where=f"first {first.describe()}, last {last.describe()}", n=first.n + last.n)


def memory_slope_verdict(result: SoakResult, gate: Gate) -> Verdict:
    """The fitted growth of the gateway's resident memory per hour."""
    fit = result.memory
    if fit is None:
        return _cannot("gateway memory slope", result.memory_unavailable or "fewer than two memory samples", result)
    where = f"{fit.first_bytes / MB:.1f} MB at {fit.t_first:.0f} s -> {fit.last_bytes / MB:.1f} MB at {fit.t_last:.0f} s"
    return gate.check(round(fit.slope_mb_per_h, 2), "gateway memory slope", FORMULAS["memory_slope"], where=where,
                      n=fit.n)


def memory_forecast_verdict(result: SoakResult, gate: Gate) -> Verdict:
    """The fitted resident memory a day after the run, against the gateway's memory limit."""
    fit = result.memory
    if fit is None:
        return _cannot("gateway memory forecast", result.memory_unavailable or "fewer than two memory samples", result)
    return gate.check(round(fit.forecast_24h_mb, 1), "gateway memory 24-hour forecast", FORMULAS["memory_forecast"],
                      where=f"slope {fit.slope_mb_per_h:.2f} MB/h from {fit.n} samples", n=fit.n)


def restart_verdict(result: SoakResult, gate: Gate) -> Verdict:
    """No part's process ended or changed during the run."""
    where = "; ".join(result.events[:10]) or "every part kept its process"
    return gate.check(result.restarts, "unplanned restarts", FORMULAS["restarts"], where=where)


VERDICTS = {"duration": duration_verdict, "availability": availability_verdict, "errors": error_verdict,
            "drift": drift_verdict, "memory_slope": memory_slope_verdict, "memory_forecast": memory_forecast_verdict,
            "restarts": restart_verdict}


def gate_fingerprint(profile: Any) -> dict[str, str]:
    """What the run's gates are held to ("<= 1.5"), key by key: a run is resumed only under the same ones."""
    targets = Thresholds.from_profile(profile)
    return {key: f"{gate.compare} {gate.applied:g}" for key in GATE_KEYS.values()
            for gate in [targets.resolve(key)]}


def report(result: SoakResult, profile: Any, resume_hint: str = "") -> dict[str, Any]:
    """The run's report: "incomplete" until complete, then "passed" or "failed" against the profile's targets."""
    targets = Thresholds.from_profile(profile)
    gates = []
    for name, verdict_of in VERDICTS.items():
        if name == "memory_slope" or name == "memory_forecast":
            if result.memory_unavailable and result.memory is None:
                gates.append({"check": name, "verdict": "skipped", "reason": result.memory_unavailable})
                continue
        if name == "restarts" and result.restarts_unavailable:
            gates.append({"check": name, "verdict": "skipped", "reason": result.restarts_unavailable})
            continue
        verdict = verdict_of(result, targets.resolve(GATE_KEYS[name]))
        gates.append({"check": name, **verdict.as_dict()})
    if not result.complete:
        overall = "incomplete"
        gates.insert(0, {"check": "run", **incomplete_verdict(result, resume_hint).as_dict()})
    else:
        overall = "passed" if all(g["verdict"] in ("passed", "skipped") for g in gates) else "failed"
    return {"run_id": result.run_id, "verdict": overall, "status": result.status, "profile": profile.name,
            "gates": gates, "measured": result.summary()}
