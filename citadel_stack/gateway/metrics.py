"""Prometheus metrics with the planned names, on a registry of the gateway's own."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Container, Iterator

import psutil
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from citadel_stack.faults import COUNTER_NOT_INCREMENTED, LABEL_MISSING, LATENCY_NOT_MEASURED

INFERENCE_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0)


class SystemCollector(Collector):
    """Host CPU, memory and disk, read with psutil at scrape time."""

    def __init__(self, disk_path: str = "/") -> None:
        self.disk_path = disk_path
        psutil.cpu_percent(interval=None)  # the first reading is meaningless; prime it

    def collect(self) -> Iterator[GaugeMetricFamily]:
        memory = psutil.virtual_memory()
        disk = psutil.disk_usage(self.disk_path)
        yield GaugeMetricFamily(
            "system_cpu_usage_percent", "CPU use of the host since the previous scrape, in percent",
            value=psutil.cpu_percent(interval=None),
        )
        # "Used" as total minus available: what the kernel could not hand out right now.
        yield GaugeMetricFamily(
            "system_memory_usage_bytes", "Host memory in use (total - available), in bytes",
            value=float(memory.total - memory.available),
        )
        yield GaugeMetricFamily("system_memory_total_bytes", "Host memory, in bytes", value=float(memory.total))
        yield GaugeMetricFamily(
            "system_disk_usage_bytes", f"Bytes used on the filesystem holding {self.disk_path}", value=float(disk.used)
        )
        yield GaugeMetricFamily(
            "system_disk_total_bytes", f"Size of the filesystem holding {self.disk_path}, in bytes",
            value=float(disk.total),
        )


@dataclass
class InferenceTracker:
    """One in-flight chat request: counted active until ``finish`` is called (once)."""

    metrics: "GatewayMetrics"
    model_name: str
    service: str
    started: float = field(default_factory=time.perf_counter)
    finished: bool = False
    faults: Container[object] = ()  # counter_not_incremented, label_missing, latency_not_measured (self-test only)

    def finish(self, success: bool) -> None:
        """Record duration and outcome and leave the active gauge; later calls do nothing."""
        if self.finished:
            return
        self.finished = True
        m = self.metrics
        m.active_connections.labels(self.model_name, self.service).dec()
        duration = 0.0 if LATENCY_NOT_MEASURED in self.faults else time.perf_counter() - self.started
        m.inference_duration.labels(self.model_name, self.service).observe(duration)
        service = "" if LABEL_MISSING in self.faults else self.service
        counter = m.model_requests.labels(self.model_name, service, "success" if success else "error")
        counter.inc(0 if COUNTER_NOT_INCREMENTED in self.faults else 1)


class GatewayMetrics:
    """Every metric the gateway exports; ``render`` gives the Prometheus text."""

    def __init__(self, with_system: bool = True) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.model_requests = Counter(
            "model_requests", "Chat completion requests per served model, by outcome",
            ["model_name", "service", "status"], registry=self.registry,
        )
        self.inference_duration = Histogram(
            "model_inference_duration_seconds", "Time from forwarding a chat request to the end of its answer",
            ["model_name", "service"], buckets=INFERENCE_BUCKETS, registry=self.registry,
        )
        self.active_connections = Gauge(
            "model_active_connections", "Chat requests in flight per served model",
            ["model_name", "service"], registry=self.registry,
        )
        self.http_requests = Counter(
            "citadel_gateway_requests", "HTTP requests answered by the gateway",
            ["method", "path", "status_code"], registry=self.registry,
        )
        self.cache_requests = Counter(
            "citadel_cache_requests", "Cacheable chat requests by cache result (hit or miss)",
            ["model_name", "result"], registry=self.registry,
        )
        self.threats = Counter(
            "citadel_threats_detected", "Prompt-injection attempts caught by the guard (direct: refused; retrieved: removed)",
            ["kind"], registry=self.registry,
        )
        if with_system:
            self.registry.register(SystemCollector())

    def start_inference(self, model_name: str, service: str, faults: Container[object] = ()) -> InferenceTracker:
        """Count one chat request as active; call ``finish`` on the result when its answer ends."""
        self.active_connections.labels(model_name, service).inc()
        return InferenceTracker(self, model_name, service, faults=faults)

    def render(self) -> bytes:
        """The Prometheus text exposition of the registry."""
        return generate_latest(self.registry)
