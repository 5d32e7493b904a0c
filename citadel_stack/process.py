"""Child processes of the stack: start with a log file, find again by PID, stop politely then firmly."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import httpx
import psutil


@dataclass(frozen=True)
class ProcessRef:
    """A process the stack started: its PID and creation time, so a reused PID is never mistaken for it."""

    pid: int
    create_time: float

    @classmethod
    def of(cls, pid: int) -> ProcessRef:
        """Reference a running process by PID."""
        return cls(pid=pid, create_time=psutil.Process(pid).create_time())

    def alive(self) -> bool:
        """True while this very process runs (not a zombie, not a newer process with the same PID)."""
        try:
            proc = psutil.Process(self.pid)
            return abs(proc.create_time() - self.create_time) < 0.01 and proc.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `timeout_s`; only if it is still the process we started."""
        if not self.alive():
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                return
            time.sleep(0.05)
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def stop_all(refs: Sequence[ProcessRef], timeout_s: float = 10.0) -> None:
    """Stop several processes at once: SIGTERM to all, then SIGKILL to whoever outlives `timeout_s`."""
    running = [ref for ref in refs if ref.alive()]
    for ref in running:
        try:
            os.kill(ref.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout_s
    while running and time.monotonic() < deadline:
        running = [ref for ref in running if ref.alive()]
        time.sleep(0.05)
    for ref in running:
        ref.stop(timeout_s=0)


def spawn(argv: Sequence[str], log_path: Path, env: dict[str, str] | None = None) -> ProcessRef:
    """Start a background process in its own session, its output appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            list(argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env,
        )
    return ProcessRef.of(proc.pid)


def wait_http_ok(url: str, timeout_s: float, process: ProcessRef | None = None, log_path: Path | None = None) -> None:
    """Wait until GET `url` answers 200, failing early when the process has died."""
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    while time.monotonic() < deadline:
        if process is not None and not process.alive():
            raise RuntimeError(f"process {process.pid} exited before {url} answered{_tail(log_path)}")
        try:
            response = httpx.get(url, timeout=2.0)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer 200 within {timeout_s:.0f} s (last: {last}){_tail(log_path)}")


def _tail(log_path: Path | None, lines: int = 15) -> str:
    if log_path is None or not log_path.exists():
        return ""
    text = log_path.read_text(errors="replace").splitlines()[-lines:]
    return f"; last lines of {log_path}:\n" + "\n".join(text)
