"""The stack's backup tool: pg_dump of the Citadel database, and pg_restore into a database of your choice.

    python -m citadel_stack.backup create --stack-dir DIR --out FILE
    python -m citadel_stack.backup restore --stack-dir DIR --file FILE --database NAME

It runs the machine's pg_dump and pg_restore as the schema owner of the embedded stack (whose DSN it
reads from the stack's state file, never from the command line). Extensions (pg_stat_statements) are
left out of the restore: they belong to the server, not to the data.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from psycopg import sql

from citadel_stack.faults import BROKEN_BACKUP, FaultSet
from citadel_stack.state import StackState


def _tools(state: StackState) -> tuple[Path, Path]:
    bindir = Path(state.pg_bindir)
    return bindir / "pg_dump", bindir / "pg_restore"


def _env(state: StackState) -> dict[str, str]:
    return {**os.environ, "PGCONNECT_TIMEOUT": "10"}


def create(state: StackState, out: Path) -> None:
    """A custom-format dump of the whole database."""
    pg_dump, _ = _tools(state)
    subprocess.run([str(pg_dump), "-Fc", "-f", str(out), "-d", state.owner_dsn], check=True, env=_env(state),
                   capture_output=True, timeout=300)
    if BROKEN_BACKUP in FaultSet.parse(state.faults):  # fault (self-test only): a backup cut short
        data = out.read_bytes()
        out.write_bytes(data[: len(data) // 2])


def restore(state: StackState, dump: Path, database: str) -> None:
    """Create `database` and restore the dump into it (extensions left out)."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    _, pg_restore = _tools(state)
    with psycopg.connect(state.owner_dsn, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    listing = subprocess.run([str(pg_restore), "-l", str(dump)], check=True, capture_output=True, text=True, timeout=120)
    keep = "\n".join(line for line in listing.stdout.splitlines() if " EXTENSION " not in line)
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as handle:
        handle.write(keep)
    target = make_conninfo(state.owner_dsn, dbname=database)
    try:
        subprocess.run([str(pg_restore), "--no-owner", "--no-privileges", "--exit-on-error", "-L", handle.name,
                        "-d", target, str(dump)], check=True, capture_output=True, env=_env(state), timeout=300)
    finally:
        os.unlink(handle.name)


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit 1 with pg_dump's or pg_restore's own message on failure."""
    parser = argparse.ArgumentParser(prog="python -m citadel_stack.backup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["create", "restore"])
    parser.add_argument("--stack-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--file", type=Path)
    parser.add_argument("--database")
    args = parser.parse_args(argv)
    state = StackState.load(args.stack_dir)
    if state is None:
        print(f"no stack runs in {args.stack_dir}", file=sys.stderr)
        return 1
    try:
        if args.command == "create":
            create(state, args.out)
        else:
            restore(state, args.file, args.database)
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        print(f"{args.command} failed: {detail[-1] if detail else exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
