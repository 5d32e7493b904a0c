"""``python -m citadel_stack.vector_store --port P --api-key-file FILE [--data-dir DIR]``: serve the Qdrant stand-in."""

from __future__ import annotations

import argparse
import stat
import sys
from pathlib import Path

import uvicorn
from prometheus_client import disable_created_metrics

from . import standin_version
from .app import create_app
from .faults import KNOWN_FAULTS, FaultSet
from .request_log import JsonLineLog


def read_api_key(path: Path) -> tuple[str, str | None]:
    """The key in `path` (surrounding whitespace stripped) and a warning when others may read the file."""
    key = path.read_text(encoding="utf-8").strip()
    if not key:
        raise ValueError(f"the API key file {path} is empty")
    warning = None
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        warning = f"the API key file {path} is readable by other users; it should be mode 0600"
    return key, warning


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, validate the faults, and serve until stopped."""
    fault_help = "; ".join(f"{f.form}: {f.description}" for f in KNOWN_FAULTS.values())
    parser = argparse.ArgumentParser(prog="python -m citadel_stack.vector_store", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, required=True, help="port to listen on")
    parser.add_argument("--api-key-file", type=Path,
                        help="file holding the API key (mode 0600); without it, no authentication, as Qdrant")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME[:ARG]",
                        help=f"inject a fault (repeatable), for the suite's self-test only. Known: {fault_help}")
    parser.add_argument("--log", type=Path, help="append JSON-lines request log here (default: stderr)")
    parser.add_argument("--data-dir", type=Path,
                        help="keep the collections here, and load those stored there before (default: a temporary "
                             "directory removed when the store stops)")
    args = parser.parse_args(argv)
    try:
        faults = FaultSet.parse(args.fault)
        api_key, warning = read_api_key(args.api_key_file) if args.api_key_file else (None, None)
    except (OSError, ValueError) as exc:
        print(f"citadel vector store: {exc}", file=sys.stderr)
        return 2
    log = JsonLineLog.to(args.log)
    if warning:
        log.write("warning", event="config", message=warning)
    version = standin_version()
    log.write("info", event="started", host=args.host, port=args.port, version=version,
              auth=api_key is not None, faults=sorted(args.fault),
              data_dir=str(args.data_dir) if args.data_dir else "temporary")
    disable_created_metrics()  # no *_created series: this process exports only the stand-in's registry
    uvicorn.run(
        create_app(api_key=api_key, version=version, faults=faults, log=log, data_dir=args.data_dir),
        host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="on",
        timeout_graceful_shutdown=5,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
