"""The load engine and its metrics: schedules, one record per request, glossary metrics, evidence.

Typical use from a step (through the library, never HTTP in the step)::

    factory = chat_request_factory("phi3", "Say hello", max_tokens=32, api_key=key)
    run = run_load(factory, OpenLoop(rate=2), Bounds(duration_s=20, max_requests=40),
                   EngineOptions(base_url=gateway_url))
    p95 = run.summary().e2e.percentile(95)   # Percentile(value=seconds, n=..., p=95)
"""
from __future__ import annotations

from citadel_acceptance.load.engine import (EngineOptions, LoadEngine, LoadRun, RequestFactory, run_load,
                                            run_load_async)
from citadel_acceptance.load.export import latency_histogram_png, latency_timeline_png, records_csv
from citadel_acceptance.load.factories import chat_request_factory, embeddings_request_factory
from citadel_acceptance.load.metrics import (FORMULAS, Distribution, LatencyTargets, LoadSummary, Percentile,
                                             nearest_rank, summarize)
from citadel_acceptance.load.progress import ProgressSink, ProgressSnapshot, no_progress, stderr_progress
from citadel_acceptance.load.records import RequestRecord, RequestSpec
from citadel_acceptance.load.schedule import (Bounds, ClosedLoop, OpenLoop, constant_offsets, open_loop_offsets,
                                              poisson_offsets)

__all__ = [
    "Bounds", "ClosedLoop", "Distribution", "EngineOptions", "FORMULAS", "LatencyTargets", "LoadEngine", "LoadRun",
    "LoadSummary", "OpenLoop", "Percentile", "ProgressSink", "ProgressSnapshot", "RequestFactory", "RequestRecord",
    "RequestSpec", "chat_request_factory", "constant_offsets", "embeddings_request_factory", "latency_histogram_png",
    "latency_timeline_png", "nearest_rank", "no_progress", "open_loop_offsets", "poisson_offsets", "records_csv",
    "run_load", "run_load_async", "stderr_progress", "summarize",
]
