"""Fault `table_lock:MS` (self-test only): lock contention on the gateway's tables.

A small process started with the stack (part `table_lock`): again and again it takes an exclusive lock
on api_keys, request_log and documents as the schema owner, holds it MS milliseconds and lets go for
10 ms, as a badly written maintenance job would. Queries on those tables wait for it.

    python -m citadel_stack.table_lock --dir STACK_DIR --hold-ms MS
"""
from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

import psycopg

from citadel_stack.state import StackState

TABLES = ("api_keys", "request_log", "documents")
RELEASE_S = 0.01


def main(argv: list[str] | None = None) -> int:
    """Lock, hold, release, wait: until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--hold-ms", required=True, type=int)
    args = parser.parse_args(argv)
    state = StackState.load(args.dir)
    if state is None:
        print(f"no stack in {args.dir}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    hold_s = args.hold_ms / 1000
    while True:
        try:
            with psycopg.connect(state.owner_dsn, connect_timeout=5) as conn:
                while True:
                    with conn.transaction():
                        for table in TABLES:  # the gateway's migrations create them; until then, try again
                            conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
                        time.sleep(hold_s)
                    time.sleep(RELEASE_S)
        except psycopg.Error:
            time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
