"""Are the GPUs actually used? Utilisation read before and while the load engine serves every model."""
from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from citadel_acceptance.checks.gpu.snapshot import GpuUnavailable
from citadel_acceptance.checks.gpu.sources import GpuReader
from citadel_acceptance.checks.gpu.verdicts import UtilizationRun
from citadel_acceptance.load import Bounds, EngineOptions, OpenLoop, chat_request_factory, no_progress, run_load
from citadel_acceptance.load.engine import RequestFactory
from citadel_acceptance.load.records import RequestSpec

if TYPE_CHECKING:
    from citadel_acceptance.run.session import RunSession

IDLE_READINGS = 3


def every_model_factory(session: RunSession, prompt: str, max_tokens: int = 64) -> RequestFactory:
    """Streamed chat requests cycling over every model of the profile, each prompt unique (no cache hit)."""
    models = sorted(session.profile.models)
    key = session.profile.secret("api_key")
    path = session.profile.gateway.chat_path
    factories = [chat_request_factory(session.profile.served_id(m), [prompt], max_tokens=max_tokens, api_key=key,
                                      path=path) for m in models]

    def factory(index: int) -> RequestSpec:
        spec = factories[index % len(factories)](index)
        body = dict(spec.json)
        body["messages"] = [{"role": "user", "content": f"{prompt} (gpu check {index})"}]
        return RequestSpec(spec.method, spec.url, headers=spec.headers, json=body, stream=spec.stream)

    return factory


def _read_into(reader: GpuReader, target: dict[int, list[float]], names: dict[int, str]) -> None:
    try:
        snapshot = reader.read()
    except GpuUnavailable:
        return
    for device in snapshot.devices:
        names[device.index] = device.name
        if device.utilization_percent is not None:
            target.setdefault(device.index, []).append(device.utilization_percent)


def utilization_under_load(session: RunSession, reader: GpuReader, duration_s: float, rate_rps: float,
                           every_s: float = 1.0) -> UtilizationRun:
    """Read utilisation idle (a few readings), then every `every_s` while an open-loop load runs."""
    run = UtilizationRun()
    for _ in range(IDLE_READINGS):
        _read_into(reader, run.idle, run.names)
        time.sleep(every_s)
    factory = every_model_factory(session, session.profile.probe.prompt)
    options = EngineOptions(base_url=session.profile.gateway.base_url, timeout_s=session.profile.gateway.timeout_s,
                            verify=session.profile.gateway.verify_tls, progress=no_progress)
    outcome: dict[str, Any] = {}

    def load() -> None:
        outcome["run"] = run_load(factory, OpenLoop(rate=rate_rps), Bounds(duration_s=duration_s,
                                                                          max_requests=int(duration_s * rate_rps) + 1),
                                  options)

    thread = threading.Thread(target=load, name="gpu-load", daemon=True)
    thread.start()
    while thread.is_alive():
        _read_into(reader, run.loaded, run.names)
        thread.join(every_s)
    records = outcome["run"].records if "run" in outcome else []
    run.requests, run.errors = len(records), sum(1 for r in records if not r.ok)
    return run
