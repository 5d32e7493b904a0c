"""What the stability run reads at every sample, and where from.

- availability: the gateway's health report (`GET /health`): healthy means HTTP 200 and status "healthy";
- the gateway's resident memory: its process through psutil (embedded stack: PID from the stack's
  state), or a metric of its `/metrics` (`process_resident_memory_bytes` by default) for a deployment;
- database connections: `pg_stat_activity` of the application's database, where the profile gives a DSN;
- GPU memory and temperature where the GPUs can be read (the hottest, the fullest device);
- processes: each part's PID and start time (embedded stack: its state file and psutil; a deployment:
  the gateway's `process_start_time_seconds`). A part whose process ended, or changed, restarted.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import httpx
import psutil

from citadel_acceptance.checks.monitoring import gateway_metrics as metrics_probe
from citadel_acceptance.checks.gpu import GpuReader
from citadel_acceptance.config.endpoints import HealthSettings
from citadel_acceptance.config.soak import SoakSettings
from citadel_acceptance.target.base import Target

if TYPE_CHECKING:
    from citadel_acceptance.run.session import RunSession

Identity = dict[str, float]  # {"pid": ..., "create_time": ...}


@dataclass(frozen=True)
class Reading:
    """What one sample read (None where the source gives nothing)."""

    healthy: bool
    health: str
    health_ms: float | None
    rss_bytes: float | None
    db_connections: int | None
    gpu_memory_used_bytes: float | None
    gpu_temperature_c: float | None
    processes: dict[str, Identity | None]  # part -> the process running it now (None: none runs)


def health_check(url: str, timeout_s: float, verify: Any = True,
                 words: HealthSettings = HealthSettings()) -> tuple[bool, str, float | None]:
    """(healthy, what was seen, milliseconds) for one GET of the health report, its status read with the profile's
    `[health]` words (`healthy_words`: "healthy", "ok", "up" unless the profile says otherwise). Never raises: no
    answer, or an answer that is no health report (a JSON list or string, an empty body, an HTML page), is an
    unhealthy sample whose reason says what was expected and what came."""
    started = time.perf_counter()
    try:
        response = httpx.get(url, timeout=timeout_s, verify=verify)
    except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:  # OSError: a CA file that is not there
        return False, f"no answer: {type(exc).__name__}: {' '.join(str(exc).split())}"[:200], None
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        return False, f"HTTP {response.status_code}", elapsed
    status = health_status(response)
    return words.state_of(status) == "healthy", status, elapsed


def health_status(response: httpx.Response) -> str:
    """The `status` of a health report, or why the answer is none: 'expected a JSON object with a status, got ...'."""
    try:
        body = response.json()
    except ValueError:
        kind = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
        seen = "an empty body" if not response.content.strip() else f"{kind}, not JSON"
        return f"expected a JSON object with a status, got {seen}"
    if not isinstance(body, dict):
        kinds = {list: "a JSON list", str: "a JSON string", bool: "a JSON boolean", type(None): "JSON null"}
        return f"expected a JSON object with a status, got {kinds.get(type(body), 'a JSON number')}"
    return str(body.get("status", "no status"))


@dataclass
class SoakProbes:
    """The readers one soak uses, built from the session (the steps never see HTTP or psutil)."""

    health_url: str
    verify: Any
    timeout_s: float
    memory: Callable[[], float | None]
    memory_unavailable: str
    db_connections: Callable[[], int | None]
    processes: Callable[[], dict[str, Identity | None]]
    restarts_unavailable: str
    gpu: GpuReader | None = None
    notes: list[str] = field(default_factory=list)
    words: HealthSettings = field(default_factory=HealthSettings)  # the profile's [health] words

    def read(self) -> Reading:
        """One sample of everything."""
        healthy, health, ms = health_check(self.health_url, self.timeout_s, self.verify, self.words)
        gpu_memory = gpu_temperature = None
        if self.gpu is not None:
            try:
                snapshot = self.gpu.read()
                used = [d.memory_used_bytes for d in snapshot.devices if d.memory_used_bytes is not None]
                temps = [d.temperature_c for d in snapshot.devices if d.temperature_c is not None]
                gpu_memory, gpu_temperature = (max(used) if used else None), (max(temps) if temps else None)
            except Exception:  # GpuUnavailable or a reader gone wrong: a gap in the GPU series, not a failed sample
                pass
        return Reading(healthy=healthy, health=health, health_ms=ms, rss_bytes=_safe(self.memory),
                       db_connections=_safe(self.db_connections), gpu_memory_used_bytes=gpu_memory,
                       gpu_temperature_c=gpu_temperature, processes=_safe(self.processes) or {})


def _safe(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception:  # a probe that fails once leaves a gap in its series, it does not stop the soak
        return None


def _metric_reader(url: str, metric: str, verify: Any, timeout_s: float) -> Callable[[], float | None]:
    def read() -> float | None:
        values = metrics_probe.parse(httpx.get(url, timeout=timeout_s, verify=verify).text)
        found = [v for (name, _), v in values.items() if name == metric]
        return found[0] if found else None

    return read


def _process_rss(target: Target) -> Callable[[], float | None]:
    def read() -> float | None:
        pid = target.process_id("gateway")
        return float(psutil.Process(pid).memory_info().rss) if pid else None

    return read


def _connections(dsn: str) -> Callable[[], int | None]:
    def read() -> int | None:
        from citadel_acceptance.checks.database import probe as database_probe

        return database_probe.connection_count(dsn)

    return read


def _restarts_from_metrics(url: str, verify: Any, timeout_s: float) -> Callable[[], dict[str, Identity | None]]:
    start_time = _metric_reader(url, "process_start_time_seconds", verify, timeout_s)

    def read() -> dict[str, Identity | None]:
        value = start_time()
        return {"gateway": None if value is None else {"pid": 0.0, "create_time": value}}

    return read


def probes_for(session: RunSession, settings: SoakSettings) -> SoakProbes:
    """The probes the profile and the target allow (memory and restarts may be unavailable, with a reason)."""
    gateway = session.profile.gateway
    metrics_url = f"{gateway.base_url}{gateway.metrics_path}"
    timeout = min(10.0, gateway.timeout_s)  # longer than the gateway's own probes of its parts (2 s each)
    target = session.target if session.target.can_control() else None
    memory: Callable[[], float | None] = lambda: None
    memory_unavailable = ""
    if settings.memory_source == "process" and target is not None:
        memory = _process_rss(target)
    elif settings.memory_source in ("process", "metrics"):
        memory = _metric_reader(metrics_url, settings.memory_metric, gateway.verify_tls, timeout)
        if _safe(memory) is None:
            memory_unavailable = (f"the gateway's {gateway.metrics_path} has no {settings.memory_metric} "
                                  "(set soak.memory_metric, e.g. system_memory_usage_bytes)")
    else:
        memory_unavailable = "the profile reads no gateway memory (soak.memory_source = none)"
    processes: Callable[[], dict[str, Identity | None]] = dict
    restarts_unavailable = ""
    if settings.restart_source == "stack" and target is not None:
        processes = target.processes
    elif settings.restart_source in ("stack", "metrics"):
        processes = _restarts_from_metrics(metrics_url, gateway.verify_tls, timeout)
        if (_safe(processes) or {}).get("gateway") is None:
            restarts_unavailable = (f"the gateway's {gateway.metrics_path} has no process_start_time_seconds, and the "
                                    "suite does not control this target's processes")
    else:
        restarts_unavailable = "the profile watches no process (soak.restart_source = none)"
    dsn = _optional_secret(session, "database_dsn")
    connections: Callable[[], int | None] = _connections(dsn) if dsn else (lambda: None)
    gpu = GpuReader.for_profile(session.profile)
    return SoakProbes(health_url=f"{gateway.base_url}{gateway.health_path}", verify=gateway.verify_tls,
                      timeout_s=timeout, memory=memory, memory_unavailable=memory_unavailable,
                      db_connections=connections, processes=processes, restarts_unavailable=restarts_unavailable,
                      gpu=None if gpu.unavailable_reason() else gpu, words=session.profile.health)


def _optional_secret(session: RunSession, name: str) -> str:
    try:
        return session.profile.secret(name) if name in session.profile.secret_vars else ""
    except Exception:
        return ""
