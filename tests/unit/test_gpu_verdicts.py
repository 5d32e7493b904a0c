"""GPU verdicts on recorded device snapshots: each snapshot fails exactly the checks it should."""
from __future__ import annotations

from pathlib import Path

import pytest

from citadel_acceptance.checks import gpu
from citadel_acceptance.checks.gpu import GpuDevice, GpuSnapshot, UtilizationRun
from citadel_acceptance.config.profile import load_profile
from citadel_acceptance.config.thresholds import Thresholds

DATA = Path(__file__).resolve().parent.parent / "data" / "gpu"


def targets() -> Thresholds:
    return Thresholds.from_profile(load_profile("citadel-mvp2"))


def checks(snapshot: GpuSnapshot) -> dict[str, gpu.verdicts.Verdict]:
    t = targets()
    return {
        "count": gpu.count_verdict(snapshot, t.resolve("gpu.count", spec=2)),
        "memory_size": gpu.memory_size_verdict(snapshot, t.resolve("gpu.memory_gb", spec=16)),
        "memory_use": gpu.memory_use_verdict(snapshot, t.resolve("gpu.memory_used_fraction", spec=0.90)),
        "temperature": gpu.temperature_verdict(snapshot, t.resolve("gpu.temperature_margin_c", spec=5)),
        "uncorrectable": gpu.uncorrectable_errors_verdict(snapshot, t.resolve("gpu.uncorrectable_errors")),
        "hardware_slowdown": gpu.hardware_slowdown_verdict(snapshot),
    }


@pytest.mark.parametrize("name, failing, fragment", [
    ("healthy", set(), ""),
    ("hot", {"temperature"}, "GPU temperature margin: expected >= 5 °C, measured 3 °C (n=2) at GPU 1"),
    ("ecc_errors", {"uncorrectable"}, "measured 8 errors (n=2) at GPU 0 (Tesla V100-PCIE-16GB): "
                                      "ecc_uncorrected_volatile=2, ecc_uncorrected_aggregate=5, retired_pages_double_bit=1"),
    ("throttled", {"hardware_slowdown"}, "GPU 1 (Tesla V100-PCIE-16GB) is slowed down by hw_slowdown, hw_power_brake_slowdown"),
    ("missing_device", {"count"}, "GPUs present: expected >= 2 GPUs, measured 1 GPUs"),
    ("memory_full", {"memory_use"}, "GPU memory in use: expected <= 0.9 of memory, measured 0.9625"),
])
def test_each_recorded_snapshot_fails_exactly_its_checks(name, failing, fragment):
    snapshot = GpuSnapshot.load(DATA / f"{name}.json")
    verdicts = checks(snapshot)
    assert {check for check, v in verdicts.items() if not v.passed} == failing, \
        {check: v.explanation for check, v in verdicts.items()}
    for check in failing:
        assert fragment in verdicts[check].explanation, verdicts[check].explanation


def test_a_16_gb_card_counts_as_16_gb_in_vendor_units():
    verdict = checks(GpuSnapshot.load(DATA / "healthy.json"))["memory_size"]
    assert verdict.passed and verdict.measured == 17.18, verdict.explanation


def test_a_value_no_device_reported_cannot_pass():
    bare = GpuSnapshot(source="test", devices=(GpuDevice(index=0, name="x"), GpuDevice(index=1, name="y")))
    verdicts = checks(bare)
    for check in ("memory_size", "memory_use", "temperature", "uncorrectable"):
        assert not verdicts[check].passed and "reported no" in verdicts[check].explanation


def test_no_device_at_all_fails_the_count():
    assert not checks(GpuSnapshot(source="test", devices=()))["count"].passed


def test_snapshots_round_trip_through_json_and_refuse_unknown_fields():
    snapshot = GpuSnapshot.load(DATA / "throttled.json")
    assert GpuSnapshot.from_dict(snapshot.as_dict()) == snapshot
    with pytest.raises(ValueError, match="unknown GPU fields"):
        GpuDevice.from_dict({"index": 0, "name": "x", "temprature_c": 50})


def test_utilisation_must_rise_on_every_gpu_under_load():
    gate = targets().resolve("gpu.utilization_rise_percent", spec=10)
    used = UtilizationRun(idle={0: [0, 1, 0], 1: [2, 2, 2]}, loaded={0: [40, 85], 1: [30, 70]}, names={0: "a", 1: "b"})
    assert gpu.utilization_rise_verdict(used, gate).passed
    idle_one = UtilizationRun(idle={0: [0, 0, 0], 1: [2, 2, 2]}, loaded={0: [80], 1: [3, 4]}, names={0: "a", 1: "b"})
    verdict = gpu.utilization_rise_verdict(idle_one, gate)
    assert not verdict.passed and "measured 2 points" in verdict.explanation and "GPU 1 (b)" in verdict.explanation
    assert not gpu.utilization_rise_verdict(UtilizationRun(), gate).passed


def test_gpu_facts_for_the_environment_properties():
    facts = GpuSnapshot.load(DATA / "healthy.json").facts()
    assert facts == {"gpu.source": "nvml", "gpu.count": "2", "gpu.driver": "550.54.15", "gpu.cuda": "12.4",
                     "gpu.0": "Tesla V100-PCIE-16GB, 16.0 GiB", "gpu.1": "Tesla V100-PCIE-16GB, 16.0 GiB"}
