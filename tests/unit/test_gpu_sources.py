"""GPU sources: NVML (real and faked), the gateway's /health/gpu, dcgm-exporter through Prometheus; the skip rule."""
from __future__ import annotations

import sys
import types
from pathlib import Path
from types import SimpleNamespace

import pytest

from citadel_acceptance.checks import gpu

from citadel_acceptance.run import hooks as run_hooks
from citadel_acceptance.errors import SuiteConfigError
from citadel_acceptance.config.profile import load_profile
from citadel_acceptance.checks.gpu import GpuReader, GpuSettings, GpuSnapshot, GpuUnavailable
from citadel_acceptance.checks.gpu.nvml import read_nvml

DATA = Path(__file__).resolve().parent.parent / "data" / "gpu"


def test_this_machine_gives_its_gpus_or_nvmls_own_reason():
    import pynvml

    try:
        pynvml.nvmlInit()
        pynvml.nvmlShutdown()
        expected = ""
    except pynvml.NVMLError as exc:
        expected = str(exc)  # e.g. "NVML Shared Library Not Found" on a machine without a driver
    if expected:
        with pytest.raises(GpuUnavailable) as raised:
            read_nvml()
        assert str(raised.value) == expected
    else:
        assert read_nvml().source == "nvml"


class FakeNvml(types.ModuleType):
    """Just enough of pynvml for one device with ECC errors, a hardware slowdown and no remapping support."""

    NVML_TEMPERATURE_GPU, NVML_TEMPERATURE_THRESHOLD_SLOWDOWN = 0, 1
    NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC, NVML_AGGREGATE_ECC = 1, 0, 1
    NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR = 1

    class NVMLError(Exception):
        pass

    def __init__(self) -> None:
        super().__init__("pynvml")
        self.shutdown = False

    def nvmlInit(self): pass
    def nvmlShutdown(self): self.shutdown = True
    def nvmlSystemGetDriverVersion(self): return b"550.54.15"
    def nvmlSystemGetCudaDriverVersion(self): return 12040
    def nvmlDeviceGetCount(self): return 1
    def nvmlDeviceGetHandleByIndex(self, i): return f"h{i}"
    def nvmlDeviceGetName(self, h): return "NVIDIA A100-SXM4-40GB"
    def nvmlDeviceGetUUID(self, h): return "GPU-abc"
    def nvmlDeviceGetMemoryInfo(self, h): return SimpleNamespace(total=40 * 2**30, used=30 * 2**30, free=10 * 2**30)
    def nvmlDeviceGetUtilizationRates(self, h): return SimpleNamespace(gpu=77, memory=40)
    def nvmlDeviceGetTemperature(self, h, sensor): return 70
    def nvmlDeviceGetTemperatureThreshold(self, h, which): return 90
    def nvmlDeviceGetPowerUsage(self, h): return 300500
    def nvmlDeviceGetEnforcedPowerLimit(self, h): return 400000
    def nvmlDeviceGetTotalEccErrors(self, h, kind, counter): return 4 if counter == self.NVML_AGGREGATE_ECC else 1
    def nvmlDeviceGetRetiredPages(self, h, cause): return [0x1000, 0x2000]
    def nvmlDeviceGetRemappedRows(self, h): raise self.NVMLError("Not Supported")
    def nvmlDeviceGetCurrentClocksEventReasons(self, h): return 0x008 | 0x004


def test_nvml_reader_maps_every_field_and_notes_what_is_not_supported(monkeypatch):
    fake = FakeNvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    snapshot = read_nvml()
    (device,) = snapshot.devices
    assert (snapshot.driver_version, snapshot.cuda_version) == ("550.54.15", "12.4")
    assert device.name == "NVIDIA A100-SXM4-40GB" and device.memory_used_fraction == 0.75
    assert (device.temperature_margin_c, device.power_w, device.power_limit_w) == (20.0, 300.5, 400.0)
    assert device.uncorrectable_errors == {"ecc_uncorrected_volatile": 1, "ecc_uncorrected_aggregate": 4,
                                           "retired_pages_double_bit": 2}
    assert device.throttle_reasons == ("sw_power_cap", "hw_slowdown") and device.hardware_slowdowns == ["hw_slowdown"]
    assert snapshot.notes == ("GPU 0 remapped rows: Not Supported",) and fake.shutdown


def test_nvml_init_failure_is_unavailable_with_its_words(monkeypatch):
    fake = FakeNvml()
    fake.nvmlInit = lambda: (_ for _ in ()).throw(fake.NVMLError("Driver Not Loaded"))
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    with pytest.raises(GpuUnavailable, match="^Driver Not Loaded$"):
        read_nvml()


def test_the_gateway_report_is_a_snapshot():
    import json

    snapshot = gpu.parse_gateway(json.loads((DATA / "gateway_health_gpu.json").read_text()))
    assert snapshot.source == "gateway" and len(snapshot.devices) == 2
    assert snapshot.devices == GpuSnapshot.load(DATA / "healthy.json").devices
    with pytest.raises(GpuUnavailable, match="NVML Shared Library Not Found"):
        gpu.parse_gateway({"error": "NVML Shared Library Not Found", "devices": []})


def test_dcgm_exporter_series_become_devices():
    import json

    snapshot = gpu.parse_dcgm(json.loads((DATA / "dcgm_prometheus.json").read_text()))
    first, second = snapshot.devices
    assert snapshot.driver_version == "550.54.15" and first.name == "Tesla V100-PCIE-16GB"
    assert first.memory_total_bytes == (13926 + 2226 + 232) * 2**20 and first.memory_used_bytes == 13926 * 2**20
    assert (first.temperature_c, first.slowdown_temperature_c, first.utilization_percent) == (61.0, 87.0, 63.0)
    assert second.uncorrectable_errors["ecc_uncorrected_volatile"] == 3 and second.hardware_slowdowns == ["hw_slowdown"]
    with pytest.raises(GpuUnavailable, match="no dcgm-exporter series"):
        gpu.parse_dcgm({"status": "success", "data": {"result": []}})


def test_the_reader_asks_once_and_remembers_the_reason():
    calls = []

    def absent() -> GpuSnapshot:
        calls.append(1)
        raise GpuUnavailable("NVML Shared Library Not Found")

    reader = GpuReader(GpuSettings(source="nvml"), nvml_reader=absent)
    assert reader.unavailable_reason() == reader.unavailable_reason() == "NVML Shared Library Not Found"
    assert len(calls) == 1
    assert reader.facts() == {"gpu.source": "nvml", "gpu.unavailable": "NVML Shared Library Not Found"}
    assert "gpu.source = none" in GpuReader(GpuSettings(source="none")).unavailable_reason()
    with pytest.raises(SuiteConfigError, match="gpu.source must be one of"):
        load_profile("citadel-mvp2", {"gpu.source": "nvidia-smi"})


ALL_DECLARED = SimpleNamespace(name="p", provides=lambda capability: True)


def test_requires_gpu_scenarios_are_skipped_with_nvmls_reason():
    reader = GpuReader(GpuSettings(), nvml_reader=lambda: (_ for _ in ()).throw(
        GpuUnavailable("NVML Shared Library Not Found")))
    context = SimpleNamespace(not_ready="", session=SimpleNamespace(allow_destructive=True, allow_mutation=True, profile=ALL_DECLARED), gpu=reader)
    reason = run_hooks.skip_reason(context, ["gpu", "requires.gpu"])
    assert reason.endswith(": NVML Shared Library Not Found") and "nvml" in reason
    assert run_hooks.skip_reason(context, ["soak"]) == ""
    healthy = GpuReader(GpuSettings(), nvml_reader=lambda: GpuSnapshot.load(DATA / "healthy.json"))
    assert run_hooks.skip_reason(SimpleNamespace(not_ready="", session=context.session, gpu=healthy),
                                 ["requires.gpu"]) == ""


def test_a_declared_source_that_fails_is_a_failure_never_a_skip(monkeypatch):
    """A lost GPU, a /health/gpu error or no dcgm series used to skip the GPU scenarios (exit 0): they fail now."""
    from citadel_acceptance.checks.gpu import GpuReadError

    with pytest.raises(GpuReadError, match="NVML Shared Library Not Found"):
        gpu.parse_gateway({"error": "NVML Shared Library Not Found", "devices": []})
    with pytest.raises(GpuReadError, match="no dcgm-exporter series"):
        gpu.parse_dcgm({"status": "success", "data": {"result": []}})
    fake = FakeNvml()
    fake.nvmlDeviceGetCount = lambda: (_ for _ in ()).throw(fake.NVMLError("GPU is lost"))
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    with pytest.raises(GpuReadError, match="^GPU is lost$"):
        read_nvml()
    lost = GpuReader(GpuSettings(), nvml_reader=lambda: (_ for _ in ()).throw(GpuReadError("GPU is lost")))
    context = SimpleNamespace(not_ready="", session=SimpleNamespace(allow_destructive=True, allow_mutation=True, profile=ALL_DECLARED), gpu=lost)
    assert run_hooks.skip_reason(context, ["gpu", "requires.gpu"]) == "", "a read error must not skip"
    assert lost.read_error == "GPU is lost" and lost.facts()["gpu.unavailable"] == "read error: GPU is lost"
    verdict = gpu.read_failure("nvml", lost.read_error)
    assert not verdict.passed and verdict.explanation == "the GPUs could not be read through gpu.source = nvml: GPU is lost"
