"""A SIGINT during the stability run is never lost, even where Python swallows its KeyboardInterrupt.

A KeyboardInterrupt raised inside a weakref callback is printed as "Exception ignored" and the program goes
on (CI once saw a soak run to its end after SIGINT: it landed in matplotlib's caches while the interim plots
were drawn). `sigint_noted` remembers every SIGINT, and the run raises at its next segment boundary.
"""
from __future__ import annotations

import gc
import os
import signal
import weakref
from pathlib import Path
from types import SimpleNamespace

import pytest

from citadel_acceptance.checks.soak import runner
from citadel_acceptance.checks.soak.probes import Reading
from citadel_acceptance.config.profile import load_profile
from citadel_acceptance.load import LoadRun

# the swallowed KeyboardInterrupt is what these tests make happen: pytest reports it as "unraisable"
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

class _Owner:
    pass


def _interrupt_me(_ref: weakref.ref) -> None:
    os.kill(os.getpid(), signal.SIGINT)
    for _ in range(100_000):  # the handler runs at the next bytecode boundary: here, inside the callback
        pass


def swallowed_sigint() -> None:
    """Send SIGINT so that its handler runs inside a weakref callback: Python prints and drops the exception."""
    owner = _Owner()
    ref = weakref.ref(owner, _interrupt_me)
    del owner
    gc.collect()
    assert ref() is None


def test_a_sigint_swallowed_by_a_weakref_callback_is_still_noted():
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with runner.sigint_noted() as interrupted:
        swallowed_sigint()  # no KeyboardInterrupt reaches here
        assert interrupted.is_set()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)  # an ordinary SIGINT still raises at once
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_ignored_sigint_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with runner.sigint_noted() as interrupted:
            os.kill(os.getpid(), signal.SIGINT)
        assert not interrupted.is_set() and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def fake_session(tmp_path: Path) -> SimpleNamespace:
    profile = load_profile("embedded", {"soak.duration_s": "3", "soak.warmup_s": "1", "soak.window_s": "1", "soak.checkpoint_every_s": "1",
                                        "soak.plot_every_s": "0", "soak.interval_s": "0.2", "soak.run_id": "sig"})
    return SimpleNamespace(profile=profile, run_id="sig", run_data=SimpleNamespace(issue_key=lambda purpose: SimpleNamespace(key="k")),
                           options=SimpleNamespace(reports_dir=tmp_path))


def test_the_run_stops_at_the_next_segment_when_the_interrupt_was_swallowed(tmp_path, monkeypatch):
    reading = Reading(healthy=True, health="healthy", health_ms=1.0, rss_bytes=1e8, db_connections=None,
                      gpu_memory_used_bytes=None, gpu_temperature_c=None, processes={})
    probes = SimpleNamespace(read=lambda: reading, memory_unavailable="", restarts_unavailable="")
    monkeypatch.setattr(runner, "probes_for", lambda session, settings: probes)
    monkeypatch.setattr(runner, "run_load", lambda factory, schedule, bounds, options: LoadRun(
        records=[], schedule=schedule, bounds=bounds, window_start=0.0, started_at="", elapsed_s=0.0,
        clock_origin=0.0))
    interims = []
    monkeypatch.setattr(runner.SoakRun, "_interim", lambda self: (interims.append(1), swallowed_sigint()))
    monkeypatch.setattr(runner.plots, "write_plots", lambda *args: {})
    session = fake_session(tmp_path)
    run = runner.SoakRun(session, session.profile.soak, progress=lambda line: None)
    with pytest.raises(KeyboardInterrupt):
        run.run()
    assert interims == [1], "the run went on past the segment whose interim report swallowed the SIGINT"
    assert run.checkpoint.status == "interrupted" and run.checkpoint.interruptions[0]["reason"] == "SIGINT"
    assert len(run.checkpoint.segments) == 1
