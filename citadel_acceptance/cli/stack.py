"""Start the embedded reference stack from a profile and leave it running; later runs attach to it.

    python -m citadel_acceptance.cli.stack start [--profile embedded] [--dir DIR] [--fault NAME ...]

Stopping and inspecting need no profile: `make stack-stop` and `make stack-status`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from citadel_acceptance.config.profile import load_profile
from citadel_acceptance.errors import EnvironmentNotReady, SuiteConfigError
from citadel_acceptance.run.session import REPO_ROOT
from citadel_acceptance.target.embedded import EmbeddedTarget


def main(argv: list[str] | None = None) -> int:
    """Start (or attach to) the stack; exit 0 with its gateway's address, 1 with one sentence on failure."""
    parser = argparse.ArgumentParser(prog="python -m citadel_acceptance.cli.stack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start"])
    parser.add_argument("--profile", default="embedded", help="the profile whose models and settings the stack uses")
    parser.add_argument("--dir", type=Path, default=REPO_ROOT / ".stack" / "default", help="the stack's directory")
    parser.add_argument("--fault", action="append", default=[], help="start with this fault (self-test only)")
    args = parser.parse_args(argv)
    stack_dir = args.dir.resolve()
    try:
        profile = load_profile(args.profile)
        if not profile.embedded:
            raise SuiteConfigError(f"profile {profile.name!r} describes a deployment, not the embedded stack "
                                   "([stack] mode = \"embedded\"): there is nothing to start")
        target, pointed = EmbeddedTarget.open(profile, stack_dir, tuple(args.fault), keep=True)
    except (SuiteConfigError, EnvironmentNotReady) as exc:
        print(f"citadel stack start: {exc}", file=sys.stderr)
        return 1
    verb = "started" if target.started else "already running"
    faults = target.state.faults if target.state else []
    print(f"stack {verb} in {stack_dir}: gateway {pointed.gateway.base_url}, faults {faults or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
