"""CPU and time per request of llama.cpp servers asked at once, by thread counts (docs/measurements.md).

    .venv/bin/python benchmarks/llama_threads.py [--servers 3] [--threads 1] [--batch-threads 2] [--embedding]

Starts SERVERS llama_cpp.server processes of the embedded profile's model, asks each without pause from a thread of
its own for SECONDS, and prints the requests served, the servers' CPU seconds per request and the time per request.
What it showed (2026-12-06): ggml's OpenMP threads spin while they wait for each other, so a server with more
threads than it has a core to itself burns CPU waiting; `--batch-threads` is llama-cpp-python's `n_threads_batch`
(its default: every core), which computes prompts and so every embedding.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import psutil  # noqa: E402

from citadel_acceptance.config.profile import load_profile  # noqa: E402
from citadel_stack.model_service import find_model  # noqa: E402
from citadel_stack.ports import free_port  # noqa: E402

CHAT = {"model": "m", "messages": [{"role": "user", "content": "Write one sentence about the sea."}],
        "max_tokens": 16, "temperature": 0}
EMBED = {"model": "m", "input": ["A document about the finance department's quarterly budget, its figures and "
                                 "its plans for the next year. " * 3]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-threads", type=int, default=1)
    parser.add_argument("--embedding", action="store_true", help="ask for embeddings, not 16-token answers")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    stack = load_profile("embedded").stack
    model = find_model(stack.model_package or "", stack.model_file or "")
    path, body = ("/v1/embeddings", EMBED) if args.embedding else ("/v1/chat/completions", CHAT)
    servers = []
    for _ in range(args.servers):
        port = free_port()
        argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", "m", "--port",
                str(port), "--n_threads", str(args.threads), "--n_threads_batch", str(args.batch_threads)]
        argv += ["--embedding", "true"] if args.embedding else []
        servers.append((subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
                        f"http://127.0.0.1:{port}{path}"))
    try:
        for _, url in servers:
            deadline = time.monotonic() + 120
            while True:
                try:
                    httpx.post(url, json=body, timeout=60).raise_for_status()  # ready, and warmed up
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
        counts = [0] * len(servers)
        cpu_before = [sum(psutil.Process(p.pid).cpu_times()[:2]) for p, _ in servers]
        begun = time.monotonic()

        def ask(index: int, url: str) -> None:
            with httpx.Client(timeout=60) as client:
                while time.monotonic() - begun < args.seconds:
                    client.post(url, json=body).raise_for_status()
                    counts[index] += 1

        threads = [threading.Thread(target=ask, args=(i, url)) for i, (_, url) in enumerate(servers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - begun
        cpu = sum(sum(psutil.Process(p.pid).cpu_times()[:2]) - c for (p, _), c in zip(servers, cpu_before))
        served = sum(counts)
        print(f"{args.servers} servers, n_threads {args.threads}, n_threads_batch {args.batch_threads}, "
              f"{'embeddings' if args.embedding else '16-token answers'}: {served} in {wall:.1f} s, "
              f"{cpu / served * 1000:.0f} CPU-ms and {wall * args.servers / served * 1000:.0f} ms per request")
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
