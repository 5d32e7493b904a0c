"""The embedded reference stack as a target: the only module of the suite that imports `citadel_stack`.

The suite hands the stack a plain mapping of settings (the stack never reads a profile), starts it or
attaches to the one running in the stack directory, points the profile at its ports and exports the
secrets it made into the variables the profile names.
"""
from __future__ import annotations

import fcntl
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citadel_acceptance.config.profile import Profile
from citadel_acceptance.errors import EnvironmentNotReady, SuiteConfigError
from citadel_acceptance.target import calibration
from citadel_acceptance.target.base import ProcessIdentity, Target
from citadel_stack import launcher
from citadel_stack.model_service import ModelUnavailable
from citadel_stack.postgres import PostgresUnavailable
from citadel_stack.state import StackState


def stack_settings(profile: Profile, faults: tuple[str, ...] = ()) -> dict[str, Any]:
    """The stack's settings as a plain mapping, from the profile's `[stack]`, `[embeddings]`, `[vector]`,
    `[database]` and `[monitoring]` sections and its model routing (a `[stack]` value left out is the stack's
    own default)."""
    stack, embeddings, vector = profile.stack, profile.embeddings, profile.vector
    values: dict[str, Any] = {"routes": profile.routes, "faults": tuple(faults),
                              "monitoring": profile.monitoring.as_dict()}
    for key in ("model_package", "model_file", "upstream_model", "n_ctx", "n_threads", "api_shape"):
        if getattr(stack, key) is not None:
            values[key] = getattr(stack, key)
    if embeddings.model:
        values["embedding_model"], values["embedding_service"] = embeddings.model, embeddings.service or None
    if vector is not None and vector.collection:
        values["vector_collection"] = vector.collection
    if vector is not None and vector.vector_size:
        values["vector_size"] = vector.vector_size
    values["retention_days"] = profile.database.retention_days
    return values


@dataclass
class EmbeddedTarget(Target):
    """The reference stack in `stack_dir`: started by this run or attached to; the suite may control its parts."""

    stack_dir: Path = Path(".stack/default")
    state: StackState | None = None
    started: bool = False
    keep: bool = False
    kind: str = "embedded"
    profile: Profile | None = None  # the profile pointed at the stack (what calibration asks)
    figures: dict[str, float] | None = None
    _closed: bool = field(default=False, repr=False)

    @classmethod
    def open(cls, profile: Profile, stack_dir: Path, faults: tuple[str, ...], keep: bool) -> tuple[EmbeddedTarget, Profile]:
        """Start or attach to the stack; returns the target and the profile pointed at its ports."""
        try:
            settings = launcher.StackSettings.from_mapping(stack_settings(profile, faults))
            state, started = launcher.start_or_attach(stack_dir, settings)
        except ValueError as exc:
            raise SuiteConfigError(f"-D faults: {exc}") from exc
        except (ModelUnavailable, PostgresUnavailable) as exc:
            raise EnvironmentNotReady(f"the embedded stack cannot start: {exc}") from exc
        except (launcher.StackError, RuntimeError, TimeoutError) as exc:
            raise EnvironmentNotReady(f"the embedded stack did not start: {exc}") from exc
        pointed = profile.with_endpoints(state.gateway_url, state.service_urls, state.vector_url,
                                         gateway_log=str(Path(state.stack_dir) / "logs" / "gateway.jsonl"),
                                         prometheus_url=state.prometheus_url,
                                         tls_url=state.gateway_tls_url, ca_file=state.ca_file)
        for name, value in (("api_key", state.admin_key), ("database_dsn", state.database_dsn),
                            ("qdrant_api_key", state.vector_api_key), ("database_admin_dsn", state.owner_dsn)):
            var = pointed.secret_vars.get(name)
            if var:
                os.environ[var] = value
        return cls(stack_dir=stack_dir, state=state, started=started, keep=keep, profile=pointed), pointed

    def calibrate(self, profile: Profile) -> dict[str, float]:
        """The stack's calibration figures: measured once per stack (the first run to need them measures, under
        a lock, and records them in the stack's state), then read back by every later run."""
        with open(self.stack_dir / ".calibration.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = StackState.load(self.stack_dir) or self.state
            recorded = state.settings.get("calibration") if state else None
            if recorded:
                print(f"[calibration] recorded when the stack started: {calibration.describe(recorded)}", flush=True)
                return dict(recorded)
            figures = calibration.calibrate(*calibration_services(profile))
            if state is not None:
                launcher.record_setting(self.stack_dir, "calibration", figures)
            print(f"[calibration] measured now: {calibration.describe(figures)}", flush=True, file=sys.stdout)
            return figures

    def calibration(self) -> dict[str, float]:
        """The calibration figures, measured (or read back) at the first call: only runs with a calibrated gate pay."""
        if self.figures is None:
            if self.profile is None:
                return {}
            try:
                self.figures = self.calibrate(self.profile)
            except calibration.CalibrationError as exc:
                raise EnvironmentNotReady(f"the embedded stack's model services could not be calibrated: {exc}") from exc
        return dict(self.figures)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Secrets of the stack that no profile variable names (to redact)."""
        return (self.state.owner_dsn,) if self.state else ()

    def can_control(self) -> bool:
        return self.state is not None

    def stop_part(self, part: str) -> None:
        launcher.stop_part(self.stack_dir, part)

    def start_part(self, part: str) -> None:
        launcher.start_part(self.stack_dir, part)

    def kill_part(self, part: str) -> None:
        launcher.kill_part(self.stack_dir, part)

    def processes(self) -> dict[str, ProcessIdentity | None]:
        """Every part with its process now, from the state file and psutil (a restarted part has a new start)."""
        state = StackState.load(self.stack_dir)
        if state is None:
            return {}
        parts: dict[str, ProcessIdentity | None] = {}
        for part, info in state.processes.items():
            identity = _identity(int(info["pid"]))
            same = identity is not None and abs(identity["create_time"] - info["create_time"]) < 0.01
            parts[part] = identity if same else None
        try:
            pid = int((Path(state.pg_data_dir) / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pid = 0
        parts["postgres"] = _identity(pid) if pid else None
        return parts

    def process_id(self, part: str) -> int | None:
        state = StackState.load(self.stack_dir)
        ref = state.process(part) if state else None
        return ref.pid if ref and ref.alive() else None

    @property
    def state_dir(self) -> Path | None:
        return self.stack_dir

    def prometheus_missing(self) -> str:
        if self.state is not None and not self.state.prometheus_url:
            return self.state.settings.get("prometheus_missing") or (
                f"the embedded stack in {self.stack_dir} runs no Prometheus (started by an older version of "
                "the suite?): stop it and start it again")
        return ""

    def properties(self) -> dict[str, str]:
        props = super().properties()
        if self.state is not None:
            props["stack.faults"] = ", ".join(self.state.faults) or "none"
            props["stack.startup_s"] = str(self.state.settings.get("startup_s", "attached"))
            for part, version in sorted(self.state.versions.items()):
                props[f"version.{part}"] = version
        if self.figures:  # measured (or read back) because a calibrated gate of this run needed them
            props["calibration"] = calibration.describe(self.figures)
        return props

    def close(self) -> None:
        """Stop the stack if this run started it and was not asked to keep it."""
        if self.started and not self.keep and not self._closed:
            self._closed = True
            launcher.stop(self.stack_dir)


def calibration_services(profile: Profile) -> tuple[calibration.ChatService, calibration.EmbeddingService | None]:
    """The chat service behind the first model id, asked the load's question, and the embedding service."""
    model = sorted(profile.routes)[0]
    service = profile.services[profile.routes[model]]
    chat = calibration.ChatService(url=service.url, model=service.model or model,
                                   prompt=profile.load.prompt or profile.probe.prompt, max_tokens=profile.load.max_tokens)
    name = profile.embeddings.service
    embed = None
    if name and name in profile.services and profile.embedding_model:
        embed = calibration.EmbeddingService(url=profile.services[name].url,
                                             model=profile.services[name].model or profile.embedding_model)
    return chat, embed


def _identity(pid: int) -> ProcessIdentity | None:
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return {"pid": float(pid), "create_time": proc.create_time()}
    except psutil.Error:
        return None
