"""Thresholds: spec from the feature file, applied value from the profile, relaxed or not."""
from __future__ import annotations

import pytest

from citadel_acceptance.errors import SuiteConfigError
from citadel_acceptance.config.profile import load_profile
from citadel_acceptance.config.thresholds import Thresholds

TARGETS = {
    "latency.response_ms": {"compare": "<", "unit": "ms", "source": "T2-002", "per_model": {"phi3": 300, "mixtral": 1500}},
    "vector.recall_at_10": {"compare": ">=", "unit": "ratio", "source": "profile", "value": 0.95},
}


def test_spec_comes_from_the_feature_and_applies_without_override():
    gate = Thresholds.from_tables("p", TARGETS, {}).resolve("latency.response_ms", spec=300, model="phi3")
    assert (gate.spec, gate.applied, gate.relaxed) == (300, 300, False)
    assert gate.spec_source == "feature file (plan T2-002)" and gate.applied_source == "spec"
    assert gate.holds(299.9) and not gate.holds(300)


def test_override_is_applied_with_its_reason_and_marks_the_gate_relaxed():
    overrides = {"latency.response_ms": {"value": 2000, "reason": "CPU only"}}
    targets = Thresholds.from_tables("embedded", TARGETS, overrides)
    gate = targets.resolve("latency.response_ms", spec=300, model="phi3")
    assert (gate.applied, gate.relaxed, gate.reason) == (2000, True, "CPU only")
    verdict = gate.check(450.0, "response time", "end - start")
    assert verdict.passed and "relaxed from the spec 300 ms: CPU only" in verdict.explanation
    assert [g.key for g in targets.relaxed()] == ["latency.response_ms"]


def test_a_stricter_override_is_not_relaxed():
    gate = Thresholds.from_tables("p", TARGETS, {"latency.response_ms": {"value": 100, "reason": "tighter"}}).resolve(
        "latency.response_ms", spec=300, model="phi3")
    assert not gate.relaxed


def test_direction_of_relaxation_follows_the_comparison():
    targets = Thresholds.from_tables("p", TARGETS, {"vector.recall_at_10": {"value": 0.9, "reason": "small index"}})
    gate = targets.resolve("vector.recall_at_10")
    assert gate.relaxed and gate.holds(0.91) and not gate.holds(0.89)


def test_profile_set_values_say_so():
    gate = Thresholds.from_tables("plan", TARGETS, {}).resolve("vector.recall_at_10")
    assert gate.spec_source == "profile plan (set by the profile, not by the plan)"


def test_failed_gate_explains_expected_and_measured():
    verdict = Thresholds.from_tables("p", TARGETS, {}).resolve("latency.response_ms", spec=1500, model="mixtral").check(
        1712.4, "response time", "end - start", where="POST /v1/chat/completions", n=1)
    assert not verdict.passed
    assert verdict.explanation == ("response time for mixtral: expected < 1500 ms, measured 1712.4 ms (n=1) "
                                   "at POST /v1/chat/completions")


def test_unknown_target_is_a_configuration_error():
    with pytest.raises(SuiteConfigError, match=r"no threshold in profile 'p'"):
        Thresholds.from_tables("p", TARGETS, {}).resolve("latency.p99_ms")


def test_embedded_profile_relaxes_response_time_only():
    targets = Thresholds.from_profile(load_profile("embedded"), {"chat_answer_ms": 600.0})
    assert targets.resolve("latency.response_ms", spec=300, model="phi3").relaxed
    assert not targets.resolve("database.query_ms").relaxed


def test_verdict_evidence_carries_spec_applied_and_relaxation():
    gate = Thresholds.from_tables("embedded", TARGETS, {"latency.response_ms": {"value": 2000, "reason": "CPU"}}).resolve(
        "latency.response_ms", spec=300, model="phi3")
    data = gate.check(120.0, "response time", "end - start").as_dict()
    assert data["gate"]["relaxed"] is True and data["gate"]["spec"] == 300 and data["gate"]["applied"] == 2000
    assert data["verdict"] == "passed" and data["formula"] == "end - start" and data["measured"] == 120.0


CALIBRATED = {"latency.response_ms": {"calibrated": "chat_answer_ms", "factor": 2.5, "reason": "CPU only"},
              "vector.recall_at_10": {"calibrated": "recall_seen", "factor": 0.5, "reason": "small index"}}


def calibrated(figures):
    return Thresholds.from_tables("embedded", TARGETS, CALIBRATED, calibration=figures)


def test_a_calibrated_override_applies_its_factor_times_the_figure_this_machine_measured():
    gate = calibrated({"chat_answer_ms": 800.0}).resolve("latency.response_ms", spec=300, model="phi3")
    assert (gate.applied, gate.relaxed) == (2000.0, True)
    assert "2.5 x chat_answer_ms (800, measured when the stack started)" in gate.applied_source
    assert gate.reason.startswith("CPU only [calibrated on this machine")
    assert not gate.check(2100, "response time", "end - start").passed  # a slower answer still fails


def test_a_calibrated_value_stricter_than_the_plan_leaves_the_plan_value_and_nothing_relaxed():
    thresholds = calibrated({"chat_answer_ms": 40.0, "recall_seen": 1.0})
    gate = thresholds.resolve("latency.response_ms", spec=300, model="phi3")  # 2.5 x 40 = 100 < 300
    assert (gate.applied, gate.relaxed) == (300, False)
    recall = thresholds.resolve("vector.recall_at_10", spec=0.95)  # '>=': 0.5 x 1.0 is looser, applied
    assert (recall.applied, recall.relaxed) == (0.5, True)
    assert thresholds.relaxed() and {g.key for g in thresholds.relaxed()} == {"vector.recall_at_10"}


def test_a_calibrated_override_without_the_figure_is_a_configuration_error_naming_it():
    with pytest.raises(SuiteConfigError, match="calibration figure 'chat_answer_ms', which this target did not measure"):
        calibrated({}).resolve("latency.response_ms", spec=300, model="phi3")


def test_an_override_cannot_be_both_calibrated_and_fixed():
    with pytest.raises(SuiteConfigError, match="either `calibrated`"):
        Thresholds.from_tables("p", TARGETS, {"latency.response_ms": {"calibrated": "x", "value": 1, "reason": "r"}})


def test_the_embedded_profile_relaxes_speed_relative_to_the_calibration():
    profile = load_profile("embedded")
    thresholds = Thresholds.from_profile(profile, {"chat_answer_ms": 600.0, "chat_capacity_rps": 1.7,
                                                   "embedding_ms": 120.0})
    assert thresholds.resolve("latency.response_ms", spec=300, model="phi3").applied == 1200.0
    assert thresholds.resolve("throughput.rps", spec=50, model="phi3").applied == pytest.approx(0.51)
    assert thresholds.resolve("vector.embedding_ms", spec=200).applied == 300.0


def test_a_profile_cannot_turn_a_gate_round():
    """-D thresholds.errors.rate_percent.compare=>= would let 50 % errors pass: the direction is the plan's."""
    turned = load_profile("embedded", {"thresholds.errors.rate_percent.compare": ">="})
    with pytest.raises(SuiteConfigError, match=r"turns a gate round: thresholds.errors.rate_percent.compare is '>=', "
                                               r"the plan's is '<'"):
        Thresholds.from_profile(turned)


def test_a_profile_number_looser_than_the_plan_is_relaxed_and_a_tighter_one_is_not():
    """Thresholds the feature files do not state (the plan profile's) cannot be raised quietly, by -D or extends."""
    raised = Thresholds.from_profile(load_profile("citadel-mvp2", {"thresholds.gpu.uncorrectable_errors.value": "100"}))
    gate = raised.resolve("gpu.uncorrectable_errors")
    assert (gate.spec, gate.applied, gate.relaxed) == (0, 100, True)
    assert "sets thresholds.gpu.uncorrectable_errors to 100 where the plan says 0" in gate.reason
    tightened = Thresholds.from_profile(load_profile("citadel-mvp2", {"thresholds.stability.duration_h.value": "96"}))
    gate = tightened.resolve("stability.duration_h")
    assert (gate.spec, gate.applied, gate.relaxed) == (72, 96, False)
    assert Thresholds.from_profile(load_profile("citadel-mvp2")).resolve("stability.duration_h").applied_source == "spec"


def test_a_feature_file_number_that_is_not_the_plans_is_refused_naming_both():
    """Every number a feature file gives a gate is checked against the plan profile when the gate is resolved, in
    every run and under every profile (the healthy runs of the self-test resolve every gate of every feature)."""
    for profile in ("citadel-mvp2", "embedded"):
        thresholds = Thresholds.from_profile(load_profile(profile), {"chat_answer_ms": 600.0})
        assert thresholds.resolve("latency.response_ms", spec=300, model="phi3").spec == 300
        with pytest.raises(SuiteConfigError, match=r"the feature file states 3000 for 'latency.response_ms' of phi3 "
                                                   r"where the plan profile \(citadel-mvp2\) says 300"):
            thresholds.resolve("latency.response_ms", spec=3000, model="phi3")
        with pytest.raises(SuiteConfigError, match=r"states 50 for 'errors.rate_percent' .* says 0.1"):
            thresholds.resolve("errors.rate_percent", spec=50)


@pytest.mark.parametrize("key, looser, model", [
    ("gpu.uncorrectable_errors", "100", None), ("security.injection_hit_rate", "0.5", None),
    ("stability.unplanned_restarts", "3", None), ("database.query_ms", "500", None),
])
def test_every_profile_only_threshold_raised_by_a_definition_is_relaxed(key, looser, model):
    """The thresholds issue 16 found raisable in silence (the feature files state no number for them): each, raised
    with -D, is applied as relaxed with the plan's number as its spec."""
    plan = Thresholds.from_profile(load_profile("citadel-mvp2")).resolve(key, model=model)
    raised = Thresholds.from_profile(load_profile("citadel-mvp2", {f"thresholds.{key}.value": looser})).resolve(key, model=model)
    assert (raised.spec, raised.applied, raised.relaxed) == (plan.spec, float(looser), True) and not plan.relaxed


def test_a_forecast_horizon_shortened_by_a_profile_that_extends_the_plan_is_relaxed(tmp_path):
    """The forecast horizon is per resource (`per_model`): a shorter one than the plan profile's is looser."""
    (tmp_path / "short.toml").write_text('extends = "citadel-mvp2"\n[thresholds."monitoring.forecast_horizon_h"]\n'
                                         'compare = ">="\nunit = "h"\nper_model = { memory = 4.0, disk = 1.0 }\n')
    from citadel_acceptance.config.profile import PROFILES_DIR
    raised = Thresholds.from_profile(load_profile(str(tmp_path / "short.toml"), directory=PROFILES_DIR))
    gate = raised.resolve("monitoring.forecast_horizon_h", model="disk")
    assert (gate.spec, gate.applied, gate.relaxed) == (24, 1, True)
