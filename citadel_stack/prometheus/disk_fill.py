"""Fault `disk_fill:MB_PER_S` (self-test only): disk use climbs steadily, so that storage runs out soon.

    python -m citadel_stack.prometheus.disk_fill --dir DIR --mb-per-s 500 --cap-gb 15

Blocks are reserved with fallocate (no data written, no I/O load) in a file that is unlinked at once:
the space is held while this process lives and returned by the kernel the moment it ends, however it
ends. It grows every 0.5 s up to the cap (at most a quarter of the free space), then holds.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

STEP_S = 0.5


def main(argv: list[str] | None = None) -> int:
    """Reserve MB_PER_S megabytes a second until the cap, then wait to be stopped."""
    parser = argparse.ArgumentParser(prog="python -m citadel_stack.prometheus.disk_fill")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--mb-per-s", type=float, required=True)
    parser.add_argument("--cap-gb", type=float, default=15.0)
    args = parser.parse_args(argv)
    path = args.dir / f"disk-fill-{os.getpid()}.bin"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    path.unlink()
    free = os.statvfs(args.dir).f_bavail * os.statvfs(args.dir).f_frsize
    cap = int(min(args.cap_gb * 1024**3, free * 0.25))  # never more than a quarter of what is free
    size, started = 0, time.monotonic()
    while True:
        target = min(cap, int((time.monotonic() - started) * args.mb_per_s * 1024**2))
        if target > size:
            os.posix_fallocate(fd, size, target - size)
            size = target
        time.sleep(STEP_S)


if __name__ == "__main__":
    sys.exit(main())
