"""Prometheus metrics of the stand-in, named like Qdrant's own where Qdrant has one."""

from __future__ import annotations

from typing import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .engine import VectorEngine


class EngineCollector(Collector):
    """Collections and points per collection, read from the engine at scrape time."""

    def __init__(self, engine: VectorEngine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        points = self.engine.points_per_collection()
        yield GaugeMetricFamily("collections_total", "Number of collections", value=float(len(points)))
        per_collection = GaugeMetricFamily("collection_points", "Number of points in each collection",
                                           labels=["collection"])
        for name, count in sorted(points.items()):
            per_collection.add_metric([name], float(count))
        yield per_collection


class StoreMetrics:
    """The stand-in's registry: requests by endpoint and status, their durations, and the engine's contents."""

    def __init__(self, engine: VectorEngine, version: str) -> None:
        self.registry = CollectorRegistry()
        self.responses = Counter(
            "rest_responses", "REST responses by method, endpoint (route template) and HTTP status",
            ["method", "endpoint", "status"], registry=self.registry,
        )
        self.durations = Histogram(
            "rest_responses_duration_seconds", "Time to answer REST requests, by method and endpoint",
            ["method", "endpoint"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )
        info = Gauge("app_info", "Information about the service", ["name", "version"], registry=self.registry)
        info.labels("qdrant", version).set(1)
        self.registry.register(EngineCollector(engine))

    def observe(self, method: str, endpoint: str, status: int, duration_s: float) -> None:
        """Count one answered request."""
        self.responses.labels(method, endpoint, str(status)).inc()
        self.durations.labels(method, endpoint).observe(duration_s)

    def exposition(self) -> bytes:
        """The Prometheus text exposition of the registry."""
        return generate_latest(self.registry)
