"""Fault specs of the gateway: names with optional arguments, validated at start."""
from __future__ import annotations

import pytest

from citadel_stack.gateway.faults import FaultSet


def test_slow_model_spec_gives_a_delay_per_model():
    faults = FaultSet.parse(["slow_model:phi3:2500", "no_done_marker"])
    assert "slow_model" in faults and "no_done_marker" in faults
    assert faults.model_delays_s() == {"phi3": 2.5}


@pytest.mark.parametrize("spec", ["slow_model", "slow_model:phi3", "slow_model:phi3:soon"])
def test_slow_model_without_model_and_milliseconds_is_refused(spec):
    with pytest.raises(ValueError, match="slow_model needs MODEL:MS"):
        FaultSet.parse([spec])


def test_unknown_fault_is_refused():
    with pytest.raises(ValueError, match="unknown fault 'slow_modle:phi3:1'"):
        FaultSet.parse(["slow_modle:phi3:1"])
