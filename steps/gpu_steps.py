"""Steps for the GPUs (SC6): in place, within their limits, free of hardware errors, and used under load."""
from __future__ import annotations

from behave import then, when

from citadel_acceptance.checks import gpu
from citadel_acceptance.checks.gpu.usage import utilization_under_load


@when("the GPUs of the deployment are inspected")
def step_inspect_gpus(context):
    """Read every GPU from the profile's source: NVML, the gateway's /health/gpu, or dcgm-exporter in Prometheus."""
    try:
        context.gpus = context.gpu.read()
    except gpu.GpuReadError as failed:  # the declared source failed: a failure in one sentence, never a skip
        context.evidence.check(gpu.read_failure(context.gpu.settings.source, str(failed)))


@then("there are at least {count:d} GPUs")
def step_gpu_count(context, count):
    """The number of GPUs the source lists, against the planned count."""
    verdict = gpu.count_verdict(context.gpus, context.thresholds.resolve("gpu.count", spec=count))
    context.evidence.check(verdict, snapshot=context.gpus)


@then("each GPU has at least {size_gb:d} GB of memory")
def step_gpu_memory_size(context, size_gb):
    """The smallest GPU's memory (decimal GB, as vendors state it), against the planned size."""
    verdict = gpu.memory_size_verdict(context.gpus, context.thresholds.resolve("gpu.memory_gb", spec=size_gb))
    context.evidence.check(verdict, snapshot=context.gpus)


@then("no GPU has more than {fraction:g} of its memory in use")
def step_gpu_memory_use(context, fraction):
    """The fullest GPU's memory used / total, against the serving limit (vLLM gpu_memory_utilization)."""
    verdict = gpu.memory_use_verdict(context.gpus, context.thresholds.resolve("gpu.memory_used_fraction", spec=fraction))
    context.evidence.check(verdict, snapshot=context.gpus)


@then("every GPU is at least {margin_c:d} °C below its slowdown temperature")
def step_gpu_temperature(context, margin_c):
    """The smallest distance between a GPU's temperature and its slowdown threshold, against the margin."""
    verdict = gpu.temperature_verdict(context.gpus, context.thresholds.resolve("gpu.temperature_margin_c", spec=margin_c))
    context.evidence.check(verdict, snapshot=context.gpus)


@then("no GPU reports an uncorrectable memory error")
def step_gpu_uncorrectable(context):
    """Uncorrected ECC errors (volatile, aggregate), double-bit retired pages, uncorrectable remapped rows: none."""
    verdict = gpu.uncorrectable_errors_verdict(context.gpus, context.thresholds.resolve("gpu.uncorrectable_errors"))
    context.evidence.check(verdict, snapshot=context.gpus)


@then("no GPU is slowed down by its hardware")
def step_gpu_no_hardware_slowdown(context):
    """No current clock-event reason is a hardware slowdown (HW slowdown, HW thermal, HW power brake)."""
    verdict = gpu.hardware_slowdown_verdict(context.gpus)
    context.evidence.check(verdict, snapshot=context.gpus)


@when("clients keep every model busy for a while")
def step_gpu_load(context):
    """Read utilisation idle, then while the load engine streams answers from every model (profile [gpu] load)."""
    settings = context.gpu.settings
    context.utilization = utilization_under_load(context.session, context.gpu, settings.load_s, settings.load_rps)


@then("the utilisation of every GPU rises by at least {points:d} points")
def step_gpu_used(context, points):
    """Every GPU's peak utilisation under load minus its idle mean: the GPUs do the work."""
    gate = context.thresholds.resolve("gpu.utilization_rise_percent", spec=points)
    verdict = gpu.utilization_rise_verdict(context.utilization, gate)
    context.evidence.check(verdict, readings=context.utilization.as_rows())
