"""Fault `table_lock:MS` (self-test only): lock contention on the gateway's tables.

A small process started with the stack (part `table_lock`): again and again it takes an exclusive lock
on request_log, api_keys and documents as the schema owner, holds it MS milliseconds and lets go for
1 ms, as a badly written maintenance job would. Queries on those tables wait for it. The release is short
so that the share of queries that wait does not depend on the machine's speed: with 10 ms, a fast client
ran some twenty queries per connection in each release, and under 5 % of them waited (33-41 % with 1 ms).

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

# In the order the gateway's inserts take them (request_log, then api_keys through its foreign key), so that the
# two seldom deadlock; when they do (PostgreSQL cancels one after its deadlock_timeout), the lock is taken again.
TABLES = ("request_log", "api_keys", "documents")
RELEASE_S = 0.001


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
                    try:
                        with conn.transaction():
                            for table in TABLES:  # the gateway's migrations create them; until then, try again
                                conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
                            time.sleep(hold_s)
                    except psycopg.errors.DeadlockDetected:  # lock again at once: a pause would free the tables
                        print(f"{time.strftime('%H:%M:%S')} deadlock with another transaction; locking again",
                              file=sys.stderr, flush=True)
                        continue
                    time.sleep(RELEASE_S)
        except psycopg.Error as exc:
            print(f"{time.strftime('%H:%M:%S')} no lock ({type(exc).__name__}: {str(exc).strip()[:200]}); trying again",
                  file=sys.stderr, flush=True)
            time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
