"""The gateway's simulated GPUs (fault simulated_gpu): the suite's gateway source reads them as real ones."""
from __future__ import annotations

import pytest

from citadel_acceptance.checks.gpu.sources import parse_gateway
from citadel_stack.gateway.faults import FaultSet
from citadel_stack.gateway.simulated_gpu import CONDITIONS, condition_of, simulated_snapshot


@pytest.mark.parametrize("condition", CONDITIONS)
def test_every_condition_reads_as_a_gpu_snapshot(condition):
    snapshot = parse_gateway(simulated_snapshot(condition, in_flight=1))
    assert len(snapshot.devices) == (1 if condition == "one_missing" else 2)
    sizes = [d.memory_total_bytes for d in snapshot.devices]
    assert sizes == ([16 * 1024 ** 3, 8 * 1024 ** 3] if condition == "small_memory" else [16 * 1024 ** 3] * len(sizes))


def test_each_defect_shows_where_its_gate_looks():
    devices = {c: parse_gateway(simulated_snapshot(c, in_flight=0)).devices for c in CONDITIONS}
    assert min(d.temperature_margin_c for d in devices["hot"]) < 5 <= min(d.temperature_margin_c for d in devices["healthy"])
    assert max(d.memory_used_fraction for d in devices["memory_full"]) > 0.9 > max(d.memory_used_fraction for d in devices["healthy"])
    assert any(d.uncorrectable_errors.get("ecc_uncorrected_volatile") for d in devices["ecc_errors"])
    assert any(d.hardware_slowdowns for d in devices["throttled"])
    assert min(d.memory_total_bytes for d in devices["small_memory"]) / 1e9 < 16 <= min(
        d.memory_total_bytes for d in devices["healthy"]) / 1e9


def test_utilisation_follows_the_requests_in_flight_except_when_idle():
    busy = simulated_snapshot("healthy", in_flight=2)["devices"][0]["utilization_percent"]
    quiet = simulated_snapshot("healthy", in_flight=0)["devices"][0]["utilization_percent"]
    assert busy - quiet >= 10
    assert simulated_snapshot("idle", in_flight=5)["devices"][0]["utilization_percent"] == 0


def test_without_the_fault_there_is_no_condition_and_a_wrong_one_is_refused():
    assert condition_of(FaultSet.parse([])) is None
    with pytest.raises(ValueError, match="simulated_gpu needs one of"):
        condition_of(FaultSet.parse(["simulated_gpu:melting"]))
