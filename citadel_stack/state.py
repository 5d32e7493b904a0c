"""The stack's state file: what runs, where, and the secrets to reach it (mode 0600, never printed)."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from citadel_stack.process import ProcessRef

STATE_FILE = "state.json"


@dataclass
class StackState:
    """Everything needed to attach to, control and stop a running embedded stack."""

    stack_dir: str
    gateway_url: str
    service_urls: dict[str, str]
    admin_key: str  # secret
    database_dsn: str  # secret: the gateway's application role
    owner_dsn: str  # secret: the schema owner (migrations, probes that need DDL rights)
    pg_data_dir: str
    pg_bindir: str
    pg_port: int
    faults: list[str]
    vector_url: str = ""
    gateway_tls_url: str = ""
    ca_file: str = ""
    vector_api_key: str = ""  # secret
    prometheus_url: str = ""  # the stack's Prometheus; "" when none runs (settings["prometheus_missing"] says why)
    processes: dict[str, dict[str, float]] = field(default_factory=dict)  # part -> {pid, create_time}
    ports: dict[str, int] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    started_at: float = 0.0

    def process(self, part: str) -> ProcessRef | None:
        """The process of one part (`model_service`, `gateway`), if recorded."""
        info = self.processes.get(part)
        return ProcessRef(pid=int(info["pid"]), create_time=info["create_time"]) if info else None

    def set_process(self, part: str, ref: ProcessRef) -> None:
        """Record the process of one part."""
        self.processes[part] = {"pid": ref.pid, "create_time": ref.create_time}

    def save(self) -> Path:
        """Write the state file readable by its owner only."""
        path = Path(self.stack_dir) / STATE_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(asdict(self), handle, indent=2)
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, stack_dir: Path) -> StackState | None:
        """The state of the stack in `stack_dir`, or None when none was started there."""
        path = Path(stack_dir) / STATE_FILE
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text()))

    @staticmethod
    def remove(stack_dir: Path) -> None:
        """Forget the stack of `stack_dir`."""
        (Path(stack_dir) / STATE_FILE).unlink(missing_ok=True)
