"""The stability run (SC6): normal load for the profile's duration, sampled, checkpointed, resumable.

    outcome = run_once(session, on_interrupt=evidence_sink)   # once per run of the suite
    verdict = availability_verdict(outcome.result, gate)      # one function per gate
"""
from __future__ import annotations

from citadel_acceptance.checks.soak.analysis import LatencyWindow, MemoryFit, SoakResult, analyse, fit_line, latency_windows
from citadel_acceptance.checks.soak.checkpoint import Checkpoint, CheckpointStore, RequestRow, SampleRow
from citadel_acceptance.checks.soak.runner import ProcessWatcher, SoakOutcome, SoakRun, resume_hint, run_once
from citadel_acceptance.config.soak import SoakSettings
from citadel_acceptance.checks.soak.verdicts import (FORMULAS, GATE_KEYS, availability_verdict, drift_verdict,
                                              duration_verdict, error_verdict, incomplete_verdict,
                                              memory_forecast_verdict, memory_slope_verdict, report, restart_verdict)

__all__ = [
    "Checkpoint", "CheckpointStore", "FORMULAS", "GATE_KEYS", "LatencyWindow", "MemoryFit", "ProcessWatcher",
    "RequestRow", "SampleRow", "SoakOutcome", "SoakResult", "SoakRun", "SoakSettings", "analyse",
    "availability_verdict", "drift_verdict", "duration_verdict", "error_verdict", "fit_line", "incomplete_verdict",
    "latency_windows", "memory_forecast_verdict", "memory_slope_verdict", "report", "restart_verdict", "resume_hint",
    "run_once",
]
