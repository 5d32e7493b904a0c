"""The normal load of the resource gates: the profile's rate, or a share of the calibrated capacity when lower."""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from citadel_acceptance.checks.performance.probe import normal_rate
from citadel_acceptance.config.load import LoadSettings
from citadel_acceptance.config.profile import load_profile
from citadel_acceptance.config.thresholds import Thresholds
from citadel_acceptance.errors import SuiteConfigError


def session(load: LoadSettings, figures: dict[str, float]):
    """What normal_rate reads of a run session: the profile's load and the thresholds with their calibration."""
    return SimpleNamespace(profile=SimpleNamespace(load=load), thresholds=Thresholds.from_tables("t", {}, {}, calibration=figures))


def test_a_share_of_a_slow_machines_capacity_replaces_a_fixed_rate_near_it():
    rate, source = normal_rate(session(LoadSettings(normal_rps=1.0, normal_capacity_share=0.3), {"chat_capacity_rps": 1.1}))
    assert rate == pytest.approx(0.33) and "0.3 x the calibrated capacity of 1.1 answers/s" in source


def test_the_profile_rate_stays_where_it_is_lower_or_nothing_was_calibrated():
    assert normal_rate(session(LoadSettings(normal_rps=1.0, normal_capacity_share=0.3), {"chat_capacity_rps": 10}))[0] == 1.0
    assert normal_rate(session(LoadSettings(normal_rps=1.0, normal_capacity_share=0.3), {}))[0] == 1.0
    plan = load_profile("citadel-mvp2").load
    assert plan.normal_capacity_share == 0.0 and normal_rate(session(plan, {"chat_capacity_rps": 0.1}))[0] == plan.normal_rps


def test_the_embedded_profile_holds_its_normal_load_to_a_share_of_the_capacity():
    assert load_profile("embedded").load.normal_capacity_share == 0.3


def test_a_share_outside_0_to_1_is_refused():
    with pytest.raises(SuiteConfigError, match="normal_capacity_share"):
        replace(LoadSettings(), normal_capacity_share=3).validate()


def test_a_window_holds_at_least_its_minimum_of_requests_at_a_slow_rate():
    settings = LoadSettings(window_s=4.0, min_window_requests=3)
    assert settings.window_at(0.1) == 30.0 and settings.window_at(2.0) == 4.0
    assert LoadSettings(window_s=4.0).window_at(0.1) == 4.0, "without a minimum the window is the profile's"
    assert load_profile("embedded").load.min_window_requests == 3
    with pytest.raises(SuiteConfigError, match="min_window_requests"):
        LoadSettings(min_window_requests=-1).validate()
