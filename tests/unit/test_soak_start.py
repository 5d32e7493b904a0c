"""How a stability run starts: its load, and which saved run it may take up.

The load is the profile's rate, or a share of the calibrated capacity where lower, kept on resume (at a fixed
1 request a second against a calibrated capacity of 0.99 answers a second, a queue grew for the whole embedded
soak: drift 5.98 x). A saved run, complete or not, is taken up only with the profile, target and gate
thresholds it started with: `-D soak.run_id=<old id>` must never pass off an earlier run's verdict as this one's.
"""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from citadel_acceptance.checks.soak import runner
from citadel_acceptance.checks.soak.probes import Reading
from citadel_acceptance.config.profile import load_profile
from citadel_acceptance.config.soak import SoakSettings
from citadel_acceptance.config.thresholds import Thresholds
from citadel_acceptance.errors import SuiteConfigError

READING = Reading(healthy=True, health="healthy", health_ms=1.0, rss_bytes=1e8, db_connections=None,
                  gpu_memory_used_bytes=None, gpu_temperature_c=None, processes={})


def session(tmp_path: Path, capacity: float, profile_name: str = "embedded", **soak: str) -> SimpleNamespace:
    """What the stability run reads of a run session, with a target that calibrated `capacity` answers/s."""
    profile = load_profile(profile_name, {"soak.run_id": "rate", "soak.checkpoint_every_s": "1", **soak})
    return SimpleNamespace(profile=profile, run_id="rate", options=SimpleNamespace(reports_dir=tmp_path),
                           run_data=SimpleNamespace(issue_key=lambda purpose: SimpleNamespace(key="k")),
                           thresholds=Thresholds.from_profile(profile, {"chat_capacity_rps": capacity}))


@pytest.fixture
def rates(monkeypatch) -> list[float]:
    """The rate of each load segment started; the first segment is interrupted, leaving a checkpoint to resume."""
    started: list[float] = []

    def first_segment_interrupted(factory, schedule, bounds, options):
        started.append(schedule.rate)
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_load", first_segment_interrupted)
    monkeypatch.setattr(runner, "probes_for", lambda session, settings: SimpleNamespace(
        read=lambda: READING, memory_unavailable="", restarts_unavailable=""))
    monkeypatch.setattr(runner.plots, "write_plots", lambda *args: {})
    return started


def checkpoint(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "soak" / "rate" / "checkpoint.json").read_text())


def test_a_slow_machine_gets_its_share_of_the_capacity_and_the_evidence_says_why(tmp_path, rates):
    with pytest.raises(KeyboardInterrupt):
        runner.run_once(session(tmp_path, capacity=0.99), progress=lambda line: None)
    saved = checkpoint(tmp_path)
    assert rates == [0.495] and saved["settings"]["rate_rps"] == 0.495
    assert "0.5 x the calibrated capacity of 0.99 answers/s (the profile's soak.rate_rps is 1)" in saved["starts"][0]["rate_source"]


def test_a_resumed_run_keeps_the_rate_it_started_with(tmp_path, rates):
    with pytest.raises(KeyboardInterrupt):
        runner.run_once(session(tmp_path, capacity=0.99), progress=lambda line: None)
    lines: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        runner.run_once(session(tmp_path, capacity=8.0), progress=lines.append)  # a faster calibration on resume
    assert rates == [0.495, 0.495]
    assert checkpoint(tmp_path)["starts"][1]["rate_source"] == "kept from the run's first start"
    assert any("resumes" in line and "load 0.495 req/s" in line for line in lines), lines


def test_a_fast_machine_and_a_share_of_0_keep_the_profiles_rate(tmp_path, rates):
    with pytest.raises(KeyboardInterrupt):
        runner.run_once(session(tmp_path / "fast", capacity=8.0), progress=lambda line: None)
    with pytest.raises(KeyboardInterrupt):
        runner.run_once(session(tmp_path / "fixed", capacity=0.5, **{"soak.capacity_share": "0"}), progress=lambda line: None)
    assert rates == [1.0, 1.0]
    assert checkpoint(tmp_path / "fixed")["starts"][0]["rate_source"] == "1 req/s: the profile's soak.rate_rps"


def test_the_plan_runs_at_its_own_rate_and_a_share_outside_0_to_1_is_refused():
    assert load_profile("citadel-mvp2").soak.capacity_share == 0.0
    assert load_profile("embedded").soak.capacity_share == 0.5
    with pytest.raises(SuiteConfigError, match="soak.capacity_share"):
        SoakSettings(capacity_share=2).validate()


def test_a_saved_run_is_taken_up_only_under_the_thresholds_profile_and_target_it_started_with(tmp_path, rates):
    with pytest.raises(KeyboardInterrupt):
        runner.run_once(session(tmp_path, capacity=0.99), progress=lambda line: None)
    assert checkpoint(tmp_path)["thresholds"]["stability.latency_drift_ratio"] == "<= 1.5"
    looser = session(tmp_path, capacity=0.99, **{"overrides.stability.latency_drift_ratio.value": "9"})
    with pytest.raises(SuiteConfigError, match=r"stability run rate cannot be taken up by this run: "
                                                r"stability.latency_drift_ratio <= 1.5 then, <= 9 now\. Leave soak.run_id unset"):
        runner.run_once(looser, progress=lambda line: None)
    with pytest.raises(SuiteConfigError, match=r"profile 'embedded' then, 'citadel-mvp2' now; target '' then, "
                                                r"'http://localhost:8000' now"):
        runner.run_once(session(tmp_path, capacity=0.99, profile_name="citadel-mvp2"), progress=lambda line: None)
    assert rates == [0.495], "a refused run applied load"


def test_a_complete_run_of_other_thresholds_is_refused_and_an_unrecorded_one_too(tmp_path, rates):
    with pytest.raises(KeyboardInterrupt):
        runner.run_once(session(tmp_path, capacity=0.99), progress=lambda line: None)
    saved = checkpoint(tmp_path)
    saved.update(status="complete", thresholds={})
    (tmp_path / "soak" / "rate" / "checkpoint.json").write_text(json.dumps(saved))
    with pytest.raises(SuiteConfigError, match="its gate thresholds were not recorded"):
        runner.run_once(session(tmp_path, capacity=0.99), progress=lambda line: None)
