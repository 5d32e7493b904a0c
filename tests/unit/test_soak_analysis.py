"""The stability run's measured values and verdicts, on synthetic rows (no stack needed)."""
from __future__ import annotations

import pytest

from citadel_acceptance.checks import soak
from citadel_acceptance.config.profile import load_profile
from citadel_acceptance.checks.soak import Checkpoint, ProcessWatcher, RequestRow, SampleRow, SoakSettings
from citadel_acceptance.config.thresholds import Thresholds

SETTINGS = SoakSettings(duration_s=120, rate_rps=1, interval_s=4, window_s=35, warmup_s=10, checkpoint_every_s=30)
MB = 10**6


def gates(key: str, **kw):
    return Thresholds.from_profile(load_profile("citadel-mvp2")).resolve(key, **kw)


def requests(latency=lambda t: 0.2, failing=()) -> list[RequestRow]:
    return [RequestRow(segment=int(t // 30), t=float(t), ok=t not in failing, status=500 if t in failing else 200,
                       e2e_s=latency(t), error="HTTP 500: injected" if t in failing else "") for t in range(120)]


def samples(rss=lambda t: 120 * MB, unhealthy=()) -> list[SampleRow]:
    return [SampleRow(segment=int(t // 30), t=float(t), healthy=t not in unhealthy,
                      health="degraded" if t in unhealthy else "healthy", health_ms=5.0, rss_bytes=rss(t),
                      db_connections=3) for t in range(0, 120, 4)]


def result(reqs=None, smps=None, events=(), status="complete"):
    cp = Checkpoint(run_id="citadel-test", profile="embedded", target="http://x", settings=SETTINGS.as_dict(),
                    status=status, elapsed_s=120.0, events=list(events), starts=[{"at": 0, "elapsed_s": 0}])
    return soak.analyse(cp, SETTINGS, reqs if reqs is not None else requests(), smps if smps is not None else samples())


def test_a_steady_run_passes_every_gate():
    r = result()
    checks = {
        "availability": soak.availability_verdict(r, gates("availability.percent", spec=99.5)),
        "errors": soak.error_verdict(r, gates("errors.rate_percent", spec=0.1)),
        "drift": soak.drift_verdict(r, gates("stability.latency_drift_ratio", spec=1.2)),
        "slope": soak.memory_slope_verdict(r, gates("stability.memory_slope_mb_per_h", spec=10)),
        "forecast": soak.memory_forecast_verdict(r, gates("stability.memory_forecast_mb", spec=2048)),
        "restarts": soak.restart_verdict(r, gates("stability.unplanned_restarts")),
    }
    assert all(v.passed for v in checks.values()), {k: v.explanation for k, v in checks.items()}
    assert [(w.start, w.end, w.n) for w in r.windows] == [(10, pytest.approx(46.67, 0.01), 37),
                                                           (pytest.approx(46.67, 0.01), pytest.approx(83.33, 0.01), 37),
                                                           (pytest.approx(83.33, 0.01), 120, 36)]


def test_a_failed_health_check_in_thirty_fails_availability():
    verdict = soak.availability_verdict(result(smps=samples(unhealthy={40})), gates("availability.percent", spec=99.5))
    assert not verdict.passed and "measured 96.667 % (n=30)" in verdict.explanation and "40 s: degraded" in verdict.explanation


def test_samples_that_stop_covering_the_run_fail_availability_naming_when():
    """A sampler that died at 40 s leaves healthy checks only: 100 % of them is no proof for the rest of the run."""
    early = [row for row in samples() if row.t <= 40]
    verdict = soak.availability_verdict(result(smps=early), gates("availability.percent", spec=99.5))
    assert not verdict.passed, verdict.explanation
    assert "none during 40-120 s of 120 s (more than 32 s without a sample; 11 checks, 100.0 % healthy)" in verdict.explanation
    assert soak.analysis.coverage_gaps([0, 4, 8], 0, 8, 32) == [] and soak.analysis.coverage_gaps([], 0, 50, 32) == [(0, 50)]


def test_the_sampler_survives_a_probe_that_raises_and_records_why():
    from citadel_acceptance.checks.soak.runner import Sampler

    def read():
        raise KeyError("model_services")

    cp = Checkpoint(run_id="citadel-test", profile="embedded", target="http://x", settings=SETTINGS.as_dict())
    sampler = Sampler(type("Probes", (), {"read": staticmethod(read)})(), lambda: 1.0, 0.01, ProcessWatcher(cp),
                      lambda rows: "", lambda line: None, 60)
    sampler.start()
    import time
    time.sleep(0.1)
    sampler.stop()
    with sampler.lock:
        rows = sampler.drain(0)
    assert len(rows) >= 2, "the sampler stopped after the first failed read"
    assert not rows[0].healthy and "the sampler's probes failed (KeyError: 'model_services')" in rows[0].health
    assert cp.events == [], "a failed read is not a process that ended"


def test_one_failed_request_fails_the_error_rate():
    verdict = soak.error_verdict(result(reqs=requests(failing={50})), gates("errors.rate_percent", spec=0.1))
    assert not verdict.passed and "1 of 120 requests failed (HTTP 500: 1)" in verdict.explanation


def test_latency_creeping_up_fails_the_drift_gate():
    verdict = soak.drift_verdict(result(reqs=requests(latency=lambda t: 0.2 + t / 100)),
                                 gates("stability.latency_drift_ratio", spec=1.2))
    assert not verdict.passed and "latency drift: expected <= 1.2" in verdict.explanation
    assert "first window 1 (10-47 s)" in verdict.explanation


def test_a_leak_fails_the_slope_and_its_forecast():
    r = result(smps=samples(rss=lambda t: 120 * MB + t * 500_000))  # 0.5 MB/s = 1800 MB/h
    slope = soak.memory_slope_verdict(r, gates("stability.memory_slope_mb_per_h", spec=10))
    forecast = soak.memory_forecast_verdict(r, gates("stability.memory_forecast_mb", spec=2048))
    assert not slope.passed and slope.measured == pytest.approx(1800, rel=1e-6)
    assert not forecast.passed and forecast.measured == pytest.approx(120 + 116 * 0.5 + 24 * 1800, rel=1e-3)


def test_warm_up_memory_is_left_out_of_the_fit():
    r = result(smps=samples(rss=lambda t: 60 * MB if t < 10 else 120 * MB))
    assert r.memory.slope_mb_per_h == 0 and r.memory.t_first == 12


def test_fit_line_is_least_squares():
    assert soak.fit_line([(0, 1), (1, 3), (2, 5)]) == pytest.approx((2.0, 1.0))
    assert soak.fit_line([(1, 1)]) is None and soak.fit_line([(1, 1), (1, 2)]) is None


def test_without_two_measured_windows_drift_cannot_pass():
    failing = set(range(120))
    verdict = soak.drift_verdict(result(reqs=requests(failing=failing)), gates("stability.latency_drift_ratio", spec=1.2))
    assert not verdict.passed and "cannot be shown" in verdict.explanation


def test_the_watcher_counts_every_ended_process_once():
    cp = Checkpoint(run_id="r", profile="p", target="t", settings={})
    watcher = ProcessWatcher(cp)
    a, b, c = ({"pid": float(p), "create_time": 100.0 + p} for p in (11, 12, 13))
    gw = {"pid": 20.0, "create_time": 5.0}
    assert watcher.observe(0, {"model_service:m": a, "gateway": gw, "vector_store": None}) == []
    assert watcher.observe(4, {"model_service:m": a, "gateway": gw}) == []
    assert watcher.observe(8, {"model_service:m": None, "gateway": gw}) == ["8 s: model_service:m: process 11 ended"]
    assert watcher.observe(12, {"model_service:m": b, "gateway": gw}) == [
        "12 s: model_service:m: running as process 12 (restarted)"]
    assert len(watcher.observe(16, {"model_service:m": c, "gateway": gw})) == 2  # replaced between two samples
    r = result(events=cp.events)
    verdict = soak.restart_verdict(r, gates("stability.unplanned_restarts"))
    assert r.restarts == 2 and not verdict.passed and "process 11 ended" in verdict.explanation


def test_an_interrupted_run_reports_incomplete_never_passed():
    profile = load_profile("citadel-mvp2")
    interrupted = result(status="interrupted")
    report = soak.report(interrupted, profile, soak.resume_hint("citadel-test"))
    assert report["verdict"] == "incomplete" and report["gates"][0]["check"] == "run"
    assert report["gates"][0]["verdict"] == "failed" and "-D soak.run_id=citadel-test" in report["gates"][0]["explanation"]
    verdict = soak.incomplete_verdict(interrupted)
    assert not verdict.passed and verdict.measured == "incomplete"
    complete = soak.report(result(), profile)
    assert complete["verdict"] == "failed"  # 120 s is not the plan's 72 hours
    assert {g["check"]: g["verdict"] for g in complete["gates"]}["duration"] == "failed"
    embedded = soak.report(result(), load_profile("embedded"))
    assert embedded["verdict"] == "passed", embedded["gates"]
