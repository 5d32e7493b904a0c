"""Reading the GPUs of this host through NVML (`import pynvml`, from the nvidia-ml-py package).

Where there is no driver, `nvmlInit` fails and the reason NVML gave ("NVML Shared Library Not
Found", "Driver Not Loaded", ...) becomes the `GpuUnavailable` message, word for word: the GPU
scenarios are skipped with it. A counter one device does not support is left None and noted.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from citadel_acceptance.checks.gpu.snapshot import GpuDevice, GpuReadError, GpuSnapshot, GpuUnavailable, throttle_names


def _nvml() -> Any:
    try:
        import pynvml
    except ImportError as exc:  # the package is pinned; this is a broken environment
        raise GpuUnavailable(f"the nvidia-ml-py package is not installed ({exc})") from exc
    return pynvml


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def nvml_reason(exc: BaseException) -> str:
    """NVML's own words for an error (its `str`), e.g. "NVML Shared Library Not Found"."""
    return str(exc) or type(exc).__name__


def read_nvml() -> GpuSnapshot:
    """Every device NVML sees, with driver and CUDA versions; GpuUnavailable with NVML's reason otherwise."""
    nv = _nvml()
    try:
        nv.nvmlInit()
    except nv.NVMLError as exc:
        raise GpuUnavailable(nvml_reason(exc)) from exc
    notes: list[str] = []
    try:
        driver = _optional(nv, notes, "driver version", nv.nvmlSystemGetDriverVersion)
        cuda = _optional(nv, notes, "CUDA version", nv.nvmlSystemGetCudaDriverVersion)
        cuda_text = f"{cuda // 1000}.{cuda % 1000 // 10}" if isinstance(cuda, int) else ""
        devices = tuple(_device(nv, index, notes) for index in range(nv.nvmlDeviceGetCount()))
    except nv.NVMLError as exc:  # NVML started, then failed on a device (a lost GPU): a failure
        raise GpuReadError(nvml_reason(exc)) from exc
    finally:
        try:
            nv.nvmlShutdown()
        except nv.NVMLError:
            pass
    return GpuSnapshot(source="nvml", devices=devices, driver_version=_text(driver or ""), cuda_version=cuda_text,
                       read_at=time.time(), notes=tuple(notes))


def _optional(nv: Any, notes: list[str], what: str, call: Callable[..., Any], *args: Any) -> Any:
    """The value, or None (noted) when this device or driver does not support the query."""
    try:
        return call(*args)
    except nv.NVMLError as exc:
        notes.append(f"{what}: {nvml_reason(exc)}")
        return None


def _device(nv: Any, index: int, notes: list[str]) -> GpuDevice:
    handle = nv.nvmlDeviceGetHandleByIndex(index)

    def opt(what: str, call: Callable[..., Any], *args: Any) -> Any:
        return _optional(nv, notes, f"GPU {index} {what}", call, handle, *args)

    memory = opt("memory", nv.nvmlDeviceGetMemoryInfo)
    utilization = opt("utilization", nv.nvmlDeviceGetUtilizationRates)
    power_mw = opt("power", nv.nvmlDeviceGetPowerUsage)
    limit_mw = opt("power limit", nv.nvmlDeviceGetEnforcedPowerLimit)
    uncorrected = nv.NVML_MEMORY_ERROR_TYPE_UNCORRECTED
    retired = opt("retired pages", nv.nvmlDeviceGetRetiredPages, nv.NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR)
    remapped = opt("remapped rows", nv.nvmlDeviceGetRemappedRows)
    reasons = opt("throttle reasons", nv.nvmlDeviceGetCurrentClocksEventReasons)
    return GpuDevice(
        index=index, name=_text(nv.nvmlDeviceGetName(handle)), uuid=_text(opt("uuid", nv.nvmlDeviceGetUUID) or ""),
        memory_total_bytes=int(memory.total) if memory is not None else None,
        memory_used_bytes=int(memory.used) if memory is not None else None,
        utilization_percent=float(utilization.gpu) if utilization is not None else None,
        temperature_c=_float(opt("temperature", nv.nvmlDeviceGetTemperature, nv.NVML_TEMPERATURE_GPU)),
        slowdown_temperature_c=_float(opt("slowdown threshold", nv.nvmlDeviceGetTemperatureThreshold,
                                          nv.NVML_TEMPERATURE_THRESHOLD_SLOWDOWN)),
        power_w=power_mw / 1000 if power_mw is not None else None,
        power_limit_w=limit_mw / 1000 if limit_mw is not None else None,
        ecc_uncorrected_volatile=opt("volatile ECC", nv.nvmlDeviceGetTotalEccErrors, uncorrected, nv.NVML_VOLATILE_ECC),
        ecc_uncorrected_aggregate=opt("aggregate ECC", nv.nvmlDeviceGetTotalEccErrors, uncorrected,
                                      nv.NVML_AGGREGATE_ECC),
        retired_pages_double_bit=len(retired) if retired is not None else None,
        remapped_rows_uncorrectable=int(remapped[1]) if remapped is not None else None,
        remapping_failed=bool(remapped[3]) if remapped is not None else None,
        throttle_reasons=tuple(throttle_names(int(reasons))) if reasons is not None else None,
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
