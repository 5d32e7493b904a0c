"""Fault `model_crash_every:S` (self-test only): the chat model service crashes every S seconds and comes back.

A small process started with the stack (recorded as its part `chaos`, first, so that stopping the
stack stops it before anything else): every S seconds it kills the first chat model service with
SIGKILL, as a crash would, keeps it down `DOWN_S` seconds (held, so that the stack's supervisor does not
start it sooner: on a fast machine it came back within a second, between two health checks), and starts
it again on its old port through the launcher (as a supervisor would), which records the new process in
the stack's state.

    python -m citadel_stack.chaos --dir STACK_DIR --every S
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

import psutil

DOWN_S = 3.0
PART = "chaos"
STOPPING = threading.Event()


def target_part(state: object) -> str:
    """The part that crashes: the service of the first model id (every chat model on the embedded stack)."""
    routes = state.settings["routes"]  # type: ignore[attr-defined]
    return f"model_service:{routes[sorted(routes)[0]]}"


def start(state: object, every_s: float) -> None:
    """Start the chaos process for a stack being started, recorded first among its parts."""
    from citadel_stack.process import spawn

    stack_dir = Path(state.stack_dir)  # type: ignore[attr-defined]
    ref = spawn([sys.executable, "-m", "citadel_stack.chaos", "--dir", str(stack_dir), "--every", str(every_s)],
                stack_dir / "logs" / "chaos.log")
    state.processes = {PART: {"pid": ref.pid, "create_time": ref.create_time},  # type: ignore[attr-defined]
                       **state.processes}  # type: ignore[attr-defined]
    state.save()  # type: ignore[attr-defined]


def _on_term(signum: int, frame: object) -> None:
    """Stop, and take down any model service this process started and the launcher may not know yet."""
    STOPPING.set()
    for child in psutil.Process().children(recursive=True):
        try:
            child.kill()
        except psutil.Error:
            pass
    os._exit(0)


def crash_once(stack_dir: Path) -> bool:
    """Kill the service (SIGKILL), wait, start it again; False when the stack is gone."""
    from citadel_stack import launcher
    from citadel_stack.state import StackState

    state = StackState.load(stack_dir)
    if state is None:
        return False
    part = target_part(state)
    ref = state.process(part)
    if ref is not None and launcher.kill_part(stack_dir, part, hold=True):  # held: the supervisor waits for us
        print(f"chaos: killed {part} (process {ref.pid}), down for {DOWN_S:g} s", flush=True)
    if STOPPING.wait(DOWN_S) or StackState.load(stack_dir) is None:
        return False
    launcher.start_part(stack_dir, part)
    print(f"chaos: {part} started again", flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    """Crash the model service every `--every` seconds until stopped (SIGTERM) or the stack is gone."""
    parser = argparse.ArgumentParser(prog="python -m citadel_stack.chaos")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--every", type=float, required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_term)
    while not STOPPING.wait(args.every):
        if not crash_once(args.dir):
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
