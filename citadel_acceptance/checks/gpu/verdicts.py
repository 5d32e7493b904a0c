"""Verdicts of the GPU gates, from snapshots. Pure functions: unit-tested on recorded snapshots.

Each numeric gate judges the worst device (the fewest GPUs, the smallest memory, the fullest memory,
the smallest temperature margin, the most uncorrectable errors, the smallest rise under load) and
names it in the explanation. A value no device reported cannot be shown to meet its target: it fails.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from citadel_acceptance.checks.gpu.snapshot import GpuDevice, GpuSnapshot
from citadel_acceptance.config.thresholds import Gate
from citadel_acceptance.verdict import Verdict

GB = 10**9  # vendors state GPU memory in decimal gigabytes


def read_failure(source: str, reason: str) -> Verdict:
    """The declared GPU source failed to give the GPUs: failed, with the source's reason."""
    return Verdict(name="GPUs read", passed=False, formula="", measured=None,
                   explanation=f"the GPUs could not be read through gpu.source = {source}: {reason}")


def _unknown(name: str, what: str, snapshot: GpuSnapshot) -> Verdict:
    return Verdict(name=name, passed=False, formula="", measured=None,
                   explanation=f"{name}: the source {snapshot.source!r} reported no {what} for any GPU, so it cannot be "
                               f"shown to meet its target ({len(snapshot.devices)} device(s) listed)")


def _worst(snapshot: GpuSnapshot, value: Callable[[GpuDevice], float | None],
           pick: Callable[..., float]) -> tuple[GpuDevice | None, float | None]:
    known = [(d, v) for d in snapshot.devices if (v := value(d)) is not None]
    if not known:
        return None, None
    target = pick(v for _, v in known)
    return next((d, v) for d, v in known if v == target)


def count_verdict(snapshot: GpuSnapshot, gate: Gate) -> Verdict:
    """The number of GPUs the source lists, against the planned count."""
    names = ", ".join(d.label for d in snapshot.devices) or "none"
    return gate.check(len(snapshot.devices), "GPUs present", "number of devices the source lists",
                      where=f"{snapshot.source}: {names}")


def memory_size_verdict(snapshot: GpuSnapshot, gate: Gate) -> Verdict:
    """The smallest GPU memory (decimal GB), against the planned size."""
    device, value = _worst(snapshot, lambda d: d.memory_total_bytes, min)
    if device is None:
        return _unknown("GPU memory size", "memory total", snapshot)
    return gate.check(round(value / GB, 2), "GPU memory size", "min over GPUs of memory total / 10^9",
                      where=device.label, n=len(snapshot.devices))


def memory_use_verdict(snapshot: GpuSnapshot, gate: Gate) -> Verdict:
    """The fullest GPU's memory used / total, against the serving limit (vLLM gpu_memory_utilization)."""
    device, value = _worst(snapshot, lambda d: d.memory_used_fraction, max)
    if device is None:
        return _unknown("GPU memory in use", "memory use", snapshot)
    return gate.check(round(value, 4), "GPU memory in use", "max over GPUs of memory used / memory total",
                      where=device.label, n=len(snapshot.devices))


def temperature_verdict(snapshot: GpuSnapshot, gate: Gate) -> Verdict:
    """The smallest distance to the slowdown threshold (°C), against the profile's margin."""
    device, value = _worst(snapshot, lambda d: d.temperature_margin_c, min)
    if device is None:
        return _unknown("GPU temperature margin", "temperature with its slowdown threshold", snapshot)
    where = f"{device.label}: {device.temperature_c:g} °C, slowdown at {device.slowdown_temperature_c:g} °C"
    return gate.check(value, "GPU temperature margin", "min over GPUs of (slowdown threshold − temperature)",
                      where=where, n=len(snapshot.devices))


def uncorrectable_errors_verdict(snapshot: GpuSnapshot, gate: Gate) -> Verdict:
    """Uncorrectable ECC errors (volatile, aggregate), double-bit retired pages, uncorrectable remapped rows."""
    counted = [(d, d.uncorrectable_errors) for d in snapshot.devices]
    if not any(counters for _, counters in counted):
        return _unknown("GPU uncorrectable errors", "ECC, retired-page or remapped-row counter", snapshot)
    total = sum(sum(c.values()) for _, c in counted)
    found = "; ".join(f"{d.label}: " + ", ".join(f"{k}={v}" for k, v in c.items() if v)
                      for d, c in counted if any(c.values()))
    return gate.check(total, "GPU uncorrectable errors",
                      "sum over GPUs of uncorrected ECC (volatile + aggregate) + double-bit retired pages "
                      "+ uncorrectable remapped rows + remapping failures", where=found or snapshot.source,
                      n=len(snapshot.devices))


def hardware_slowdown_verdict(snapshot: GpuSnapshot) -> Verdict:
    """No GPU is slowed down by its hardware (HW slowdown, HW thermal, HW power brake)."""
    if not snapshot.devices or all(d.throttle_reasons is None for d in snapshot.devices):
        return _unknown("no hardware slowdown", "clock-event (throttle) reasons", snapshot)
    problems = [f"{d.label} is slowed down by {', '.join(d.hardware_slowdowns)}"
                for d in snapshot.devices if d.hardware_slowdowns]
    problems += [f"no data: {d.label} reported no clock-event reasons, so it cannot be shown free of a slowdown"
                 for d in snapshot.devices if d.throttle_reasons is None]
    return Verdict.from_problems("no hardware slowdown", problems,
                                 "current clock-event reasons ∩ {hw_slowdown, hw_thermal_slowdown, "
                                 "hw_power_brake_slowdown} = ∅", snapshot.source,
                                 reasons={d.label: None if d.throttle_reasons is None else list(d.throttle_reasons)
                                          for d in snapshot.devices})


@dataclass
class UtilizationRun:
    """GPU utilisation before and while the models serve a load: readings per device, in percent."""

    idle: dict[int, list[float]] = field(default_factory=dict)
    loaded: dict[int, list[float]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    requests: int = 0
    errors: int = 0

    def rise(self, index: int) -> float | None:
        """Peak under load − mean before the load, for one device (None without readings)."""
        idle, loaded = self.idle.get(index), self.loaded.get(index)
        if not idle or not loaded:
            return None
        return max(loaded) - sum(idle) / len(idle)

    def as_rows(self) -> list[dict[str, object]]:
        """One row per device, for the evidence."""
        return [{"gpu": i, "name": self.names.get(i, ""), "idle_readings": self.idle.get(i, []),
                 "loaded_readings": self.loaded.get(i, []), "rise_points": self.rise(i)} for i in sorted(self.names)]


def utilization_rise_verdict(run: UtilizationRun, gate: Gate) -> Verdict:
    """Every GPU's utilisation rises while the models serve (the GPUs do the work), by the smallest rise."""
    rises = {i: r for i in run.names if (r := run.rise(i)) is not None}
    if not rises:
        return Verdict(name="GPU utilisation under load", passed=False, measured=None,
                       explanation="GPU utilisation under load: no utilisation reading before and during the load")
    index = min(rises, key=rises.get)
    where = f"GPU {index} ({run.names[index]}), {run.requests} requests ({run.errors} failed)"
    return gate.check(round(rises[index], 1), "GPU utilisation under load",
                      "min over GPUs of (peak utilisation under load − mean utilisation before it)", where=where,
                      n=len(run.loaded.get(index, [])))
