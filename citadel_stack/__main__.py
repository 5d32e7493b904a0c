"""Command line of the embedded stack: start, stop, status, and stopping or starting one part.

    python -m citadel_stack start --settings FILE.json [--dir DIR] [--fault NAME ...]
    python -m citadel_stack status [--dir DIR]
    python -m citadel_stack stop [--dir DIR]
    python -m citadel_stack stop-part PART / start-part PART

The settings file is a JSON object of launcher.StackSettings' fields (`routes`, model id -> service name, is
required). The acceptance suite starts the stack from a profile (`make stack-start`), through its embedded adapter.
Secrets (the admin key, the database passwords) stay in DIR/state.json (mode 0600); they are never printed.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from citadel_stack import launcher


def _settings(path: Path | None, faults: list[str]) -> launcher.StackSettings:
    if path is None:
        raise ValueError("start needs --settings FILE.json (or start it from a profile: "
                         "make stack-start, which reads the profile)")
    try:
        values = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the settings file {path}: {exc}") from exc
    if not isinstance(values, dict):
        raise ValueError(f"the settings file {path} must hold a JSON object")
    values["faults"] = [*values.get("faults", []), *faults]
    return launcher.StackSettings.from_mapping(values)


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit 0 on success, 1 with a message on failure."""
    parser = argparse.ArgumentParser(prog="python -m citadel_stack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "status", "stop-part", "start-part"])
    parser.add_argument("part", nargs="?", help="for stop-part/start-part: gateway or model_service:NAME")
    parser.add_argument("--dir", type=Path, default=launcher.DEFAULT_STACK_DIR, help="the stack's directory")
    parser.add_argument("--fault", action="append", default=[], help="start with this fault (self-test only)")
    parser.add_argument("--settings", type=Path, help="start: a JSON file of the stack's settings")
    args = parser.parse_args(argv)
    stack_dir = args.dir.resolve()
    try:
        if args.command == "start":
            state, started = launcher.start_or_attach(stack_dir, _settings(args.settings, args.fault))
            verb = "started" if started else "already running"
            print(f"stack {verb} in {stack_dir}: gateway {state.gateway_url}, faults {state.faults or 'none'}")
        elif args.command == "stop":
            print("stopped" if launcher.stop(stack_dir) else f"no stack recorded in {stack_dir}")
        elif args.command == "status":
            parts = launcher.status(stack_dir)
            if not parts:
                print(f"no stack recorded in {stack_dir}")
                return 1
            for part, state in parts.items():
                print(f"{part:32} {state}")
            return 0 if all(s == "running" for s in parts.values()) else 1
        elif args.command in ("stop-part", "start-part"):
            if not args.part:
                parser.error(f"{args.command} needs a PART")
            action = launcher.stop_part if args.command == "stop-part" else launcher.start_part
            action(stack_dir, args.part)
            print(f"{args.command} {args.part}: done")
    except (launcher.StackError, ValueError, RuntimeError, TimeoutError) as exc:
        print(f"citadel_stack {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
