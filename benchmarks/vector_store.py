"""Benchmark of the embedded vector store, measured the way the vector scenarios measure it.

    .venv/bin/python benchmarks/vector_store.py                        # the store of this checkout
    .venv/bin/python benchmarks/vector_store.py --source /tmp/head     # the store of another tree (an export of HEAD)
    .venv/bin/python benchmarks/vector_store.py --fault degrade_ann:0.95

It starts ``python -m citadel_stack.vector_store`` from `--source` (this checkout by default) on a free port,
creates a collection as the reference gateway does (576 dimensions, cosine, keyword indexes on owner,
document_id and run_id), then measures with the suite's own probe (citadel_acceptance/checks/vector/probe.py):

- time to store the sample: 100 points, one upsert per document (``wait=true``) as the gateway stores them,
  four at a time as the suite's sample loader sends them;
- the index: the recall scenario's preparation (thresholds lowered for the sample, bounded wait), with
  ``indexed_vectors_count`` and the HNSW settings the store reports;
- search p95: 50 searches one after another (top 10, non-exact), nearest rank;
- concurrent p95: 20 searches at once, one thread each;
- recall@10: 20 stored vectors, approximate against the store's exact search.

The vectors are synthetic, seeded and clustered like the corpus (four departments around one common
direction, as mean-pooled sentence vectors are), not SmolLM2 embeddings: the store is measured alone,
without the embedding service. Prints one JSON object (and writes it with ``--out``).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qdrant_client import QdrantClient, models  # noqa: E402

from citadel_acceptance.checks.vector import probe  # noqa: E402
from citadel_acceptance.load import nearest_rank  # noqa: E402
from citadel_stack.ports import free_port  # noqa: E402
from citadel_stack.process import ProcessRef, wait_http_ok  # noqa: E402

COLLECTION = "citadel_documents"
PAYLOAD_INDEXES = ("owner", "document_id", "run_id")  # what the reference gateway indexes


def sample_vectors(count: int, size: int, seed: int) -> list[list[float]]:
    """Unit vectors around one shared direction, in four department clusters."""
    rng = random.Random(seed)
    base = [rng.gauss(0, 1) for _ in range(size)]
    centres = [[b + rng.gauss(0, 0.3) for b in base] for _ in range(4)]
    vectors = []
    for i in range(count):
        raw = [c + rng.gauss(0, 0.15) for c in centres[i % 4]]
        norm = math.sqrt(sum(x * x for x in raw))
        vectors.append([x / norm for x in raw])
    return vectors


def store_sample(client: QdrantClient, vectors: list[list[float]]) -> tuple[float, list[float]]:
    """Seconds to store every vector (one upsert each, four at a time) and each upsert's milliseconds."""
    def one(i: int) -> float:
        started = time.perf_counter()
        client.upsert(COLLECTION, wait=True, points=[models.PointStruct(
            id=str(uuid.UUID(int=i + 1)), vector=vectors[i],
            payload={"owner": "bench", "document_id": str(i), "run_id": "bench", "metadata": {"n": i}})])
        return (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        each = list(pool.map(one, range(len(vectors))))
    return time.perf_counter() - started, each


def measure(url: str, api_key: str, args: argparse.Namespace) -> dict[str, Any]:
    """Every figure, against the store at `url`."""
    client = probe.client(url, api_key)
    client.create_collection(COLLECTION, vectors_config=models.VectorParams(size=args.dim, distance=models.Distance.COSINE))
    for field in PAYLOAD_INDEXES:
        client.create_payload_index(COLLECTION, field, models.PayloadSchemaType.KEYWORD)
    store_s, upserts_ms = store_sample(client, sample_vectors(args.points, args.dim, args.seed))
    index = probe.prepare_index(client, COLLECTION, 120, args.points, probe.stderr_line)
    searches = probe.timed_searches(client, COLLECTION, probe.sample_vectors(client, COLLECTION, 50), 10)
    concurrent, errors = probe.concurrent_searches(client, COLLECTION, probe.sample_vectors(client, COLLECTION, 20), 10)
    recall = probe.recall_at_k(client, COLLECTION, probe.sample_vectors(client, COLLECTION, 20), 10)
    version = client.info().version
    client.close()
    p95 = lambda samples: round(nearest_rank(samples, 95).value or 0.0, 2)  # noqa: E731
    return {
        "store_version": version, "points": args.points, "dim": args.dim, "faults": args.fault,
        "store_sample_s": round(store_s, 3), "upsert_p50_ms": round(nearest_rank(upserts_ms, 50).value or 0, 2),
        "upsert_p95_ms": p95(upserts_ms),
        "index": index.as_evidence(),
        "search_p95_ms": p95(searches), "search_n": len(searches),
        "concurrent_p95_ms": p95(concurrent), "concurrent_n": len(concurrent), "concurrent_errors": errors,
        "recall_at_10": round(recall.recall, 4), "recall_n": recall.queries,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=ROOT, help="tree whose citadel_stack to run (default: this one)")
    parser.add_argument("--points", type=int, default=100, help="sample size (default 100, as the scenarios)")
    parser.add_argument("--dim", type=int, default=576, help="vector size (default 576, SmolLM2's)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--fault", action="append", default=[], help="a vector store fault to start it with")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # "Api key is used with an insecure connection"
    with tempfile.TemporaryDirectory(prefix="citadel-vector-bench-") as scratch:
        home = Path(scratch)
        key_file, api_key = home / "api-key", "bench-key-0123456789"
        key_file.write_text(api_key)
        key_file.chmod(0o600)
        port = free_port()
        argv = [sys.executable, "-m", "citadel_stack.vector_store", "--host", "127.0.0.1", "--port", str(port),
                "--api-key-file", str(key_file)] + [a for fault in args.fault for a in ("--fault", fault)]
        env = {**os.environ, "PYTHONPATH": str(args.source.resolve())}
        log_path = home / "store.log"
        started = time.monotonic()
        with open(log_path, "ab") as log:  # run from the source tree: `-m` puts the working directory first
            process = ProcessRef.of(subprocess.Popen(argv, cwd=args.source, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                     stdin=subprocess.DEVNULL, start_new_session=True).pid)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_http_ok(f"{url}/readyz", timeout_s=60, process=process, log_path=log_path)
            result = {"source": str(args.source.resolve()), "ready_s": round(time.monotonic() - started, 2),
                      **measure(url, api_key, args)}
        finally:
            process.stop()
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
