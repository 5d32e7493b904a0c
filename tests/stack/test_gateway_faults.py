"""Fault specs of the gateway: its view of the catalog (citadel_stack.faults), validated when the gateway starts."""
from __future__ import annotations

import pytest

from citadel_stack.faults import GATEWAY_DELAY, HIDE_MODEL, NO_DONE_MARKER, MODEL_SLOWER
from citadel_stack.gateway.faults import KNOWN_FAULTS, FaultSet
from citadel_stack.gateway.simulated_gpu import condition_of
from citadel_stack.gateway.soak_faults import creep_arguments


def test_model_slower_spec_gives_a_slowdown_per_model():
    faults = FaultSet.parse(["model_slower:phi3:4", "no_done_marker"])
    assert MODEL_SLOWER in faults and NO_DONE_MARKER in faults
    assert faults.model_slowdowns() == {"phi3": 4.0}


@pytest.mark.parametrize("spec", ["model_slower", "model_slower:phi3", "model_slower:phi3:soon"])
def test_model_slower_without_model_and_factor_is_refused(spec):
    with pytest.raises(ValueError, match="model_slower needs MODEL:FACTOR"):
        FaultSet.parse([spec])


def test_unknown_fault_is_refused():
    with pytest.raises(ValueError, match="unknown fault 'model_slowre:phi3:1'"):
        FaultSet.parse(["model_slowre:phi3:1"])


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
    assert {"no_done_marker", "model_slower", "simulated_gpu"} <= set(KNOWN_FAULTS)
    assert not {"degrade_ann", "vector_store_down", "slow_scrape", "table_lock"} & set(KNOWN_FAULTS)
