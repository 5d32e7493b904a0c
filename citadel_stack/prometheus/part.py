"""Start and find the stack's Prometheus: Debian's `/usr/bin/prometheus` on a free port, storage in the stack dir.

Where no binary is installed the part is left out and the reason is kept in the state
(`settings["prometheus_missing"]`): scenarios tagged @requires.prometheus are then skipped with it.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from citadel_stack.ports import free_port
from citadel_stack.process import spawn, wait_http_ok
from citadel_stack.prometheus.config import ScrapeSettings, rule_files, scrape_config

PART = "prometheus"
BINARY_ENV = "PROMETHEUS_BIN"  # a Prometheus binary elsewhere than on the PATH
READY_TIMEOUT_S = 30


def find_binary() -> Path | None:
    """The Prometheus server binary: $PROMETHEUS_BIN, else `prometheus` on the PATH (Debian: /usr/bin)."""
    explicit = os.environ.get(BINARY_ENV)
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    found = shutil.which("prometheus")
    return Path(found) if found else None


def missing_reason() -> str:
    """Why no Prometheus can run here, for the skip message."""
    return ("no Prometheus binary is installed on this machine (looked for `prometheus` on the PATH and "
            f"${BINARY_ENV}): install Debian's `prometheus` package (tools/setup.sh does, as root)")


def version(binary: Path) -> str:
    """The server's version (`2.42.0`), or "unknown"."""
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=10)
    except OSError:
        return "unknown"
    found = re.search(r"version (\S+)", out.stdout + out.stderr)
    return found.group(1) if found else "unknown"


def start(state: Any) -> None:
    """Write the configuration and rules into `<stack>/prometheus/`, start the server, wait until it is ready.

    `state` is the stack's StackState; its URL, port, process and version are recorded there.
    """
    binary = find_binary()
    if binary is None:
        state.settings["prometheus_missing"] = missing_reason()
        state.save()
        return
    stack_dir = Path(state.stack_dir)
    home = stack_dir / "prometheus"
    rules_dir = home / "rules"
    if PART not in state.processes:  # a new stack: no series of an earlier stack in this directory
        shutil.rmtree(home / "data", ignore_errors=True)
    rules_dir.mkdir(parents=True, exist_ok=True)
    for old in rules_dir.glob("*.yml"):
        old.unlink()
    settings = ScrapeSettings.from_monitoring(state.settings.get("monitoring", {}), state.faults)
    rule_paths = []
    for name, text in rule_files(settings).items():
        (rules_dir / name).write_text(text, encoding="utf-8")
        rule_paths.append(rules_dir / name)
    port = state.ports.get(PART) or free_port()
    key_file = stack_dir / "vector-store.key"
    config = scrape_config(settings, gateway=_address(state.gateway_url), metrics_path="/metrics",
                           vector_store=_address(state.vector_url), vector_store_key_file=key_file,
                           own_address=f"127.0.0.1:{port}", rule_paths=rule_paths)
    config_path = home / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    log_path = stack_dir / "logs" / "prometheus.log"
    ref = spawn([str(binary), f"--config.file={config_path}", f"--web.listen-address=127.0.0.1:{port}",
                 f"--storage.tsdb.path={home / 'data'}", "--storage.tsdb.retention.time=1d",
                 "--web.enable-lifecycle", "--log.level=warn"], log_path)
    state.ports[PART] = port
    state.prometheus_url = f"http://127.0.0.1:{port}"
    state.set_process(PART, ref)
    state.versions["prometheus"] = version(binary)
    state.save()
    wait_http_ok(f"{state.prometheus_url}/-/ready", timeout_s=READY_TIMEOUT_S, process=ref, log_path=log_path)


def _address(url: str) -> str:
    return url.split("://", 1)[-1].rstrip("/")


DISK_FILL_PART = "disk_fill"


def start_disk_fill(state: Any, mb_per_s: float) -> None:
    """Fault `disk_fill:MB_PER_S` (self-test only): a process that makes disk use climb MB_PER_S a second."""
    stack_dir = Path(state.stack_dir)
    ref = spawn([sys.executable, "-m", "citadel_stack.prometheus.disk_fill", "--dir", str(stack_dir),
                 "--mb-per-s", str(mb_per_s)], stack_dir / "logs" / "disk-fill.log")
    state.set_process(DISK_FILL_PART, ref)
    state.save()
