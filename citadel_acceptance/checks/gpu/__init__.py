"""GPU probes and verdicts: NVML on the GPU host, or the gateway's /health/gpu, or dcgm-exporter in Prometheus.

    reader = GpuReader.for_profile(profile)       # the source the profile chooses
    reason = reader.unavailable_reason()          # '' or NVML's own words, e.g. "NVML Shared Library Not Found"
    snapshot = reader.read()                      # GpuSnapshot: one GpuDevice per GPU
    verdict = memory_use_verdict(snapshot, gate)  # pure functions over snapshots
"""
from __future__ import annotations

from citadel_acceptance.checks.gpu.nvml import read_nvml
from citadel_acceptance.checks.gpu.snapshot import (HARDWARE_SLOWDOWNS, GpuDevice, GpuReadError, GpuSnapshot,
                                             GpuUnavailable, throttle_names)
from citadel_acceptance.checks.gpu.sources import GpuReader, GpuSettings, parse_dcgm, parse_gateway
from citadel_acceptance.checks.gpu.verdicts import (UtilizationRun, count_verdict, hardware_slowdown_verdict,
                                             memory_size_verdict, memory_use_verdict, read_failure, temperature_verdict,
                                             uncorrectable_errors_verdict, utilization_rise_verdict)

__all__ = [
    "GpuDevice", "GpuReadError", "GpuReader", "GpuSettings", "GpuSnapshot", "GpuUnavailable", "HARDWARE_SLOWDOWNS",
    "UtilizationRun",
    "count_verdict", "hardware_slowdown_verdict", "memory_size_verdict", "memory_use_verdict", "parse_dcgm",
    "parse_gateway", "read_failure", "read_nvml", "temperature_verdict", "throttle_names", "uncorrectable_errors_verdict",
    "utilization_rise_verdict",
]
