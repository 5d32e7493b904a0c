"""Fault specs of the gateway: its view of the catalog (citadel_stack.faults), validated when the gateway starts."""
from __future__ import annotations

import pytest

from citadel_stack.faults import GATEWAY_DELAY, HIDE_MODEL, NO_DONE_MARKER, SLOW_MODEL
from citadel_stack.gateway.faults import KNOWN_FAULTS, FaultSet
from citadel_stack.gateway.simulated_gpu import condition_of
from citadel_stack.gateway.soak_faults import creep_arguments


def test_slow_model_spec_gives_a_delay_per_model():
    faults = FaultSet.parse(["slow_model:phi3:2500", "no_done_marker"])
    assert SLOW_MODEL in faults and NO_DONE_MARKER in faults
    assert faults.model_delays_s() == {"phi3": 2.5}


@pytest.mark.parametrize("spec", ["slow_model", "slow_model:phi3", "slow_model:phi3:soon"])
def test_slow_model_without_model_and_milliseconds_is_refused(spec):
    with pytest.raises(ValueError, match="slow_model needs MODEL:MS"):
        FaultSet.parse([spec])


def test_unknown_fault_is_refused():
    with pytest.raises(ValueError, match="unknown fault 'slow_modle:phi3:1'"):
        FaultSet.parse(["slow_modle:phi3:1"])


def test_a_fault_of_another_part_is_refused():
    with pytest.raises(ValueError, match="vector_store_down are not the gateway's"):
        FaultSet.parse(["vector_store_down"])


def test_arguments_arrive_typed():
    faults = FaultSet.parse(["gateway_delay:60", "hide_model:phi3", "hide_model:hermes", "simulated_gpu:hot"])
    assert faults.number(GATEWAY_DELAY) == 60 and faults.values(HIDE_MODEL) == ["phi3", "hermes"]
    assert condition_of(faults) == "hot" and condition_of(FaultSet()) is None


def test_latency_creep_starts_at_once_unless_told_otherwise():
    assert creep_arguments(FaultSet.parse(["latency_creep:600"])) == (0.6, 0.0)
    assert creep_arguments(FaultSet.parse(["latency_creep:30000:23"])) == (30.0, 23.0)
    assert creep_arguments(FaultSet()) == (0.0, 0.0)


def test_the_gateway_knows_only_its_part_of_the_catalog():
    assert {"no_done_marker", "slow_model", "simulated_gpu"} <= set(KNOWN_FAULTS)
    assert not {"degrade_ann", "vector_store_down", "slow_scrape", "table_lock"} & set(KNOWN_FAULTS)
