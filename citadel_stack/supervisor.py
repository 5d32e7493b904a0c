"""The stack's supervisor: restarts a part that died without being stopped on purpose.

    python -m citadel_stack.supervisor --dir STACK_DIR

It checks every second. Parts stopped through the launcher (stop-part, or a fault) are held and left
alone; a part that crashed is started again on its old port, and the restart is logged as a JSON line
in logs/supervisor.jsonl (what, when, how long the part was down).
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

from citadel_stack import launcher
from citadel_stack.state import StackState

CHECK_EVERY_S = 1.0


def supervise_once(stack_dir: Path, log_path: Path) -> list[str]:
    """Restart every dead, not held part once; returns the parts restarted."""
    state = StackState.load(stack_dir)
    if state is None:
        return []
    held = set(state.settings.get("held", [])) | set(state.settings.get("stopped_by_fault", []))
    restarted = []
    for part in list(state.processes):
        ref = state.process(part)
        not_restarted = (launcher.SUPERVISOR_PART, launcher.TABLE_LOCK_PART)
        if part in held or part in not_restarted or part.startswith(launcher.CPU_HOG_PART) or ref is None or ref.alive():
            continue
        started = time.monotonic()
        try:
            launcher.start_part(stack_dir, part)
            outcome = "restarted"
        except Exception as exc:  # a failed restart is logged and tried again next round
            outcome = f"restart failed: {type(exc).__name__}: {exc}"
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"ts": time.time(), "event": "restart", "part": part, "outcome": outcome,
                                  "restart_s": round(time.monotonic() - started, 3)}) + "\n")
        restarted.append(part)
    return restarted


def main(argv: list[str] | None = None) -> int:
    """Watch the stack until it is stopped (its state file disappears) or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m citadel_stack.supervisor")
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    running = True

    def stop(*_: object) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    log_path = args.dir / "logs" / "supervisor.jsonl"
    while running and (args.dir / "state.json").exists():
        supervise_once(args.dir, log_path)
        time.sleep(CHECK_EVERY_S)
    return 0


if __name__ == "__main__":
    sys.exit(main())
