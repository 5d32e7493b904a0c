"""Two simulated GPUs behind ``GET /health/gpu``, for the self-test of the GPU gates (fault ``simulated_gpu``).

The embedded stack runs on CPUs, so the GPU scenarios are skipped there. To show that each GPU gate can fail,
the self-test starts the gateway with ``simulated_gpu:CONDITION`` and reads the GPUs through the gateway
(``-D gpu.source=gateway``): two 16 GB cards whose utilisation follows the chat requests in flight, in
good order (``healthy``) or with one defect. The answer has the shape the suite's gateway source reads.
"""
from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request

from citadel_stack.faults import SIMULATED_GPU, SIMULATED_GPU_CONDITIONS

from .faults import FaultSet
from .runtime import gateway_state

GIB = 1024 ** 3
CONDITIONS = SIMULATED_GPU_CONDITIONS
IDLE_PERCENT, PERCENT_PER_REQUEST = 3.0, 40.0


def condition_of(faults: FaultSet) -> str | None:
    """The simulated condition named by ``simulated_gpu:CONDITION`` (checked by the catalog), None without the fault."""
    condition = faults.value(SIMULATED_GPU)
    return None if condition is None else str(condition)


def simulated_snapshot(condition: str, in_flight: float, now: float | None = None) -> dict[str, Any]:
    """Two V100-class GPUs in `condition`, busy in proportion to the chat requests in flight."""
    busy = 0.0 if condition == "idle" else min(97.0, IDLE_PERCENT + PERCENT_PER_REQUEST * in_flight)
    devices = [_device(index, busy) for index in (0, 1)]
    if condition == "hot":
        devices[1].update(temperature_c=85.0)
    elif condition == "memory_full":
        devices[0].update(memory_used_bytes=int(15.7 * GIB))
    elif condition == "ecc_errors":
        devices[1].update(ecc_uncorrected_volatile=2, ecc_uncorrected_aggregate=2)
    elif condition == "throttled":
        devices[0].update(throttle_reasons=["hw_slowdown"])
    elif condition == "one_missing":
        devices = devices[:1]
    elif condition == "small_memory":  # an 8 GB card where the plan needs 16 GB, a quarter of it in use
        devices[1].update(name="Simulated GPU 8GB", memory_total_bytes=8 * GIB, memory_used_bytes=2 * GIB)
    return {"source": f"simulated ({condition})", "driver_version": "simulated", "cuda_version": "simulated",
            "read_at": time.time() if now is None else now, "notes": ["simulated by the embedded gateway (self-test)"],
            "devices": devices}


def _device(index: int, busy: float) -> dict[str, Any]:
    return {"index": index, "name": "Simulated GPU 16GB", "uuid": f"GPU-simulated-{index}",
            "memory_total_bytes": 16 * GIB, "memory_used_bytes": int(13.5 * GIB), "utilization_percent": busy,
            "temperature_c": 60.0 + busy / 10, "slowdown_temperature_c": 87.0, "power_w": 60.0 + 1.8 * busy,
            "power_limit_w": 250.0, "ecc_uncorrected_volatile": 0, "ecc_uncorrected_aggregate": 0,
            "retired_pages_double_bit": 0, "remapped_rows_uncorrectable": 0, "remapping_failed": False,
            "throttle_reasons": []}


def build_router(faults: FaultSet) -> APIRouter | None:
    """``GET /health/gpu`` under ``simulated_gpu``; None otherwise (the route does not exist)."""
    condition = condition_of(faults)
    if condition is None:
        return None
    router = APIRouter()

    @router.get("/health/gpu", include_in_schema=False)
    async def health_gpu(request: Request) -> dict[str, Any]:
        """The simulated GPUs now (no authentication, like /health)."""
        metrics = gateway_state(request).metrics
        in_flight = sum(sample.value for family in metrics.active_connections.collect() for sample in family.samples)
        return simulated_snapshot(condition, in_flight)

    return router
