"""A calibrated OpenAI-compatible streaming server: known TTFT, known gap between chunks, known tokens.

It is the yardstick of the load engine. For each request it writes the first content chunk
`--ttft-ms` after it read the request, then one chunk every `--itl-ms`, `--tokens` in all (or the
request's `max_tokens`), then a usage chunk when `stream_options.include_usage` is set, then
`data: [DONE]`. Every write is scheduled at its absolute instant on an event loop whose timers are
exact to tens of microseconds (epoll wait, then a short spin), and the server stamps with
`time.perf_counter()` (CLOCK_MONOTONIC, shared by every process of the machine) when it really wrote
each request's first content chunk. `GET /timings` returns those stamps, keyed by the request's
`x-request-id` header, so a client on the same machine can compute its own TTFT error exactly.

Faults: `--fail-ratio` answers 500 to that share of requests, `--break-ratio` closes that share of
streams halfway (seeded by `--seed`); a request header `x-timing-fail: status|break|hang` forces one.

Two HTTP stacks, chosen with `--impl`: `asyncio` (a minimal HTTP/1.1 protocol with keep-alive, the
default, the more precise) and `uvicorn` (a raw ASGI app under uvicorn with h11). Standard library
only for the default; run it as `python benchmarks/timing_server.py --port P --ttft-ms 50 --itl-ms 10 --tokens 32`.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import selectors
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

REQUEST_ID_HEADER = "x-request-id"
FAIL_HEADER = "x-timing-fail"


# --------------------------------------------------------------------------- precise timers

class SpinSelector(selectors.DefaultSelector):  # type: ignore[misc, valid-type]
    """Waits in epoll for all but the last millisecond, then polls until the timer is due (no 1 ms rounding)."""

    def __init__(self, spin: bool = True) -> None:
        super().__init__()
        self.spin = spin

    def select(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        """Wait for I/O at most `timeout` seconds, returning on time."""
        if timeout is None or timeout <= 0:
            return super().select(timeout)
        deadline = time.perf_counter() + timeout
        whole_ms = math.floor(timeout * 1000) - 1
        if whole_ms > 0:
            ready = super().select(whole_ms / 1000)
            if ready:
                return ready
        while True:
            ready = super().select(0)
            remaining = deadline - time.perf_counter()
            if ready or remaining <= 0:
                return ready
            if not self.spin:
                time.sleep(remaining)
                return super().select(0)


# --------------------------------------------------------------------------- configuration and records

@dataclass(frozen=True)
class Behaviour:
    """How the server answers."""

    ttft_s: float = 0.05
    itl_s: float = 0.01
    tokens: int = 32
    fail_ratio: float = 0.0
    break_ratio: float = 0.0
    seed: int = 0
    model: str = "timing-model"


@dataclass
class Timing:
    """What the server did for one request (perf_counter seconds, the machine's monotonic clock)."""

    request_id: str
    received: float
    planned_first: float | None = None
    first_content_written: float | None = None
    last_written: float | None = None
    tokens: int = 0
    outcome: str = "pending"


@dataclass
class TimingBook:
    """Every request's `Timing`, keyed by request id."""

    timings: dict[str, Timing] = field(default_factory=dict)

    def open(self, request_id: str) -> Timing:
        """Start the timing of a request read just now."""
        timing = Timing(request_id=request_id, received=time.perf_counter())
        self.timings[request_id] = timing
        return timing

    def report(self, clear: bool) -> bytes:
        """The JSON body of `GET /timings`: every timing and the server's own lateness."""
        rows = [asdict(t) for t in self.timings.values()]
        late = sorted(t.first_content_written - t.planned_first for t in self.timings.values()
                      if t.first_content_written is not None and t.planned_first is not None)
        body = {"timings": rows, "first_chunk_lateness_s": _quantiles(late)}
        if clear:
            self.timings.clear()
        return json.dumps(body).encode()


def _quantiles(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    pick = lambda p: values[max(1, math.ceil(p / 100 * len(values))) - 1]  # noqa: E731 nearest rank
    return {"n": len(values), "p50": pick(50), "p99": pick(99), "max": values[-1]}


# --------------------------------------------------------------------------- what is streamed

class Script:
    """The bytes of one answer, prepared once per behaviour and request kind."""

    def __init__(self, behaviour: Behaviour, chat: bool, tokens: int, include_usage: bool) -> None:
        self.tokens = tokens
        ident = "cmpl-" + uuid.uuid4().hex[:12]
        base = {"id": ident, "object": "chat.completion.chunk" if chat else "text_completion", "created": int(time.time()),
                "model": behaviour.model}
        def event(choices: list[dict[str, Any]], **extra: Any) -> bytes:
            return b"data: " + json.dumps({**base, "choices": choices, **extra}, separators=(",", ":")).encode() + b"\n\n"
        if chat:
            self.opening = event([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
            self.token = event([{"index": 0, "delta": {"content": " tok"}, "finish_reason": None}])
            closing = event([{"index": 0, "delta": {}, "finish_reason": "length"}])
        else:
            self.opening = b""
            self.token = event([{"index": 0, "text": " tok", "finish_reason": None}])
            closing = event([{"index": 0, "text": "", "finish_reason": "length"}])
        usage = {"prompt_tokens": 8, "completion_tokens": tokens, "total_tokens": 8 + tokens}
        if include_usage:
            closing += event([], usage=usage)
        self.closing = closing + b"data: [DONE]\n\n"
        message = {"role": "assistant", "content": " tok" * tokens} if chat else None
        choice = {"index": 0, "finish_reason": "length", **({"message": message} if chat else {"text": " tok" * tokens})}
        self.whole = json.dumps({"id": ident, "object": "chat.completion" if chat else "text_completion",
                                 "created": base["created"], "model": behaviour.model, "choices": [choice],
                                 "usage": usage}).encode()


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _decide(behaviour: Behaviour, rng: random.Random, forced: str) -> str:
    if forced:
        return forced
    draw = rng.random()
    if draw < behaviour.fail_ratio:
        return "status"
    if draw < behaviour.fail_ratio + behaviour.break_ratio:
        return "break"
    return "ok"


def _parse_body(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _token_count(behaviour: Behaviour, request: dict[str, Any]) -> int:
    wanted = request.get("max_tokens") or request.get("max_completion_tokens")
    return int(wanted) if isinstance(wanted, int) and wanted > 0 else behaviour.tokens


# --------------------------------------------------------------------------- the asyncio HTTP/1.1 stack

class TimedAnswer:
    """Writes one answer on a transport at its planned instants (loop.call_at, absolute times)."""

    def __init__(self, write: Callable[[bytes], None], finish: Callable[[bool], None], timing: Timing,
                 script: Script, behaviour: Behaviour, stream: bool, outcome: str) -> None:
        self.loop = asyncio.get_running_loop()
        self.write, self.finish, self.timing, self.script = write, finish, timing, script
        self.behaviour, self.stream, self.outcome = behaviour, stream, outcome
        self.sent = 0
        self.stop_at = script.tokens // 2 if outcome == "break" else script.tokens
        # loop.time() and perf_counter() are the same clock here; keep any offset anyway
        self.offset = self.loop.time() - time.perf_counter()

    def start(self) -> None:
        """Write the head now and plan the first content chunk."""
        t = self.timing
        if self.outcome == "hang":
            return
        if self.outcome == "status":
            body = b'{"error":{"message":"failure injected by the timing server","type":"server_error"}}'
            self.write(b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n"
                       b"content-length: %d\r\n\r\n%s" % (len(body), body))
            t.outcome = "status"
            self.finish(True)
            return
        t.planned_first = t.received + self.behaviour.ttft_s
        if self.stream:
            self.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
                       b"transfer-encoding: chunked\r\n\r\n" + (_chunk(self.script.opening) if self.script.opening else b""))
            self.loop.call_at(t.planned_first + self.offset, self._token)
        else:
            due = t.planned_first + self.behaviour.itl_s * max(0, self.script.tokens - 1)
            self.loop.call_at(due + self.offset, self._whole)

    def _token(self) -> None:
        t = self.timing
        now = time.perf_counter()
        if self.sent == 0:
            t.first_content_written = now
        if self.sent >= self.stop_at:
            t.outcome = "break"
            t.last_written = now
            self.finish(False)
            return
        self.sent += 1
        if self.sent == self.script.tokens:
            self.write(_chunk(self.script.token + self.script.closing) + b"0\r\n\r\n")
            t.last_written, t.tokens, t.outcome = now, self.sent, "ok"
            self.finish(True)
            return
        self.write(_chunk(self.script.token))
        self.loop.call_at(t.planned_first + self.behaviour.itl_s * self.sent + self.offset, self._token)

    def _whole(self) -> None:
        t = self.timing
        t.first_content_written = t.last_written = time.perf_counter()
        body = self.script.whole
        self.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
        t.tokens, t.outcome = self.script.tokens, "ok"
        self.finish(True)


class HttpProtocol(asyncio.Protocol):
    """A minimal HTTP/1.1 server connection: one request at a time, keep-alive, content-length bodies."""

    def __init__(self, app: "TimingApp") -> None:
        self.app = app
        self.buffer = b""
        self.busy = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # noqa: D102
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: D102
        self.transport = None

    def data_received(self, data: bytes) -> None:  # noqa: D102
        self.buffer += data
        self._next()

    def _next(self) -> None:
        if self.busy or self.transport is None:
            return
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        lines = self.buffer[:head_end].decode("latin-1").split("\r\n")
        method, target, _version = (lines[0].split(" ") + ["", ""])[:3]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        if len(self.buffer) < head_end + 4 + length:
            return
        body = self.buffer[head_end + 4:head_end + 4 + length]
        self.buffer = self.buffer[head_end + 4 + length:]
        self.busy = True
        self.app.handle(method, target, headers, body, self._write, self._finish)

    def _write(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def _finish(self, keep_alive: bool) -> None:
        self.busy = False
        if not keep_alive and self.transport is not None:
            self.transport.close()
            return
        if self.buffer:
            self._next()


class TimingApp:
    """Routes requests: chat and text completions, models, health, timings."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.book = TimingBook()
        self.rng = random.Random(behaviour.seed)

    def plan(self, path: str, headers: dict[str, str], body: bytes) -> tuple[Timing, Script, bool, str]:
        """What to answer to a completion request: its timing, bytes, whether streamed, outcome."""
        request_id = headers.get(REQUEST_ID_HEADER) or "srv-" + uuid.uuid4().hex[:12]
        timing = self.book.open(request_id)
        request = _parse_body(body)
        options = request.get("stream_options") or {}
        script = Script(self.behaviour, path.endswith("/chat/completions"), _token_count(self.behaviour, request),
                        bool(isinstance(options, dict) and options.get("include_usage")))
        outcome = _decide(self.behaviour, self.rng, headers.get(FAIL_HEADER, ""))
        return timing, script, bool(request.get("stream")), outcome

    def simple(self, method: str, path: str) -> tuple[int, bytes]:
        """Answers that need no timing: models, health, timings."""
        route, _, query = path.partition("?")
        if route in ("/v1/models", "/models"):
            return 200, json.dumps({"object": "list", "data": [{"id": self.behaviour.model, "object": "model",
                                                                 "owned_by": "timing-server"}]}).encode()
        if route == "/health":
            return 200, b'{"status":"ok"}'
        if route == "/timings":
            return 200, self.book.report(clear="clear=1" in query)
        return 404, json.dumps({"error": {"message": f"no route {method} {route}"}}).encode()

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes,
               write: Callable[[bytes], None], finish: Callable[[bool], None]) -> None:
        """Answer one request on the asyncio stack."""
        route = path.partition("?")[0]
        if method == "POST" and route in ("/v1/chat/completions", "/v1/completions"):
            timing, script, stream, outcome = self.plan(route, headers, body)
            TimedAnswer(write, finish, timing, script, self.behaviour, stream, outcome).start()
            return
        status, payload = self.simple(method, path)
        reason = {200: "OK", 404: "Not Found"}[status]
        write(b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
              % (status, reason.encode(), len(payload), payload))
        finish(True)


# --------------------------------------------------------------------------- the uvicorn (ASGI) stack

def asgi_app(app: TimingApp) -> Callable[..., Any]:
    """The same answers as a raw ASGI app, for the comparison of HTTP stacks."""

    async def serve(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path = scope["path"] + ("?" + scope["query_string"].decode() if scope.get("query_string") else "")
        if scope["method"] != "POST" or scope["path"] not in ("/v1/chat/completions", "/v1/completions"):
            status, payload = app.simple(scope["method"], path)
            await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": payload})
            return
        timing, script, stream, outcome = app.plan(scope["path"], headers, body)
        loop = asyncio.get_running_loop()
        offset = loop.time() - time.perf_counter()
        if outcome == "hang":
            await asyncio.sleep(3600)
        if outcome == "status":
            timing.outcome = "status"
            await send({"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b'{"error":{"message":"failure injected"}}'})
            return
        timing.planned_first = timing.received + app.behaviour.ttft_s
        if not stream:
            await asyncio.sleep(timing.planned_first + app.behaviour.itl_s * (script.tokens - 1) + offset - loop.time())
            timing.first_content_written = timing.last_written = time.perf_counter()
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": script.whole})
            timing.outcome, timing.tokens = "ok", script.tokens
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        await send({"type": "http.response.body", "body": script.opening, "more_body": True})
        stop_at = script.tokens // 2 if outcome == "break" else script.tokens
        for k in range(script.tokens):
            await asyncio.sleep(max(0.0, timing.planned_first + app.behaviour.itl_s * k + offset - loop.time()))
            now = time.perf_counter()
            if k == 0:
                timing.first_content_written = now
            if k >= stop_at:
                timing.outcome = "break"
                raise ConnectionAbortedError("break injected by the timing server")
            last = k == script.tokens - 1
            await send({"type": "http.response.body", "body": script.token + (script.closing if last else b""),
                        "more_body": not last})
            timing.last_written = now
        timing.outcome, timing.tokens = "ok", script.tokens

    return serve


# --------------------------------------------------------------------------- running it

async def serve_asyncio(app: TimingApp, host: str, port: int, ready: Callable[[int], None]) -> None:
    """Serve on the asyncio stack until cancelled."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: HttpProtocol(app), host, port, backlog=1024)
    ready(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


async def serve_uvicorn(app: TimingApp, host: str, port: int, ready: Callable[[int], None]) -> None:
    """Serve on uvicorn (h11, this loop) until cancelled."""
    import socket

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(asgi_app(app), http="h11", lifespan="off", log_level="warning", access_log=False,
                            backlog=1024)
    server = uvicorn.Server(config)
    ready(sock.getsockname()[1])
    await server.serve(sockets=[sock])


def main(argv: list[str] | None = None) -> int:
    """Command line: serve until killed, printing `listening on HOST:PORT` once ready."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    parser.add_argument("--ttft-ms", type=float, default=50.0)
    parser.add_argument("--itl-ms", type=float, default=10.0)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--fail-ratio", type=float, default=0.0)
    parser.add_argument("--break-ratio", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default="timing-model")
    parser.add_argument("--impl", choices=("asyncio", "uvicorn"), default="asyncio")
    parser.add_argument("--no-spin", action="store_true", help="sleep instead of spinning for the last millisecond")
    parser.add_argument("--cpu", type=int, default=None, help="pin the server to this CPU")
    args = parser.parse_args(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    behaviour = Behaviour(ttft_s=args.ttft_ms / 1000, itl_s=args.itl_ms / 1000, tokens=args.tokens,
                          fail_ratio=args.fail_ratio, break_ratio=args.break_ratio, seed=args.seed, model=args.model)
    app = TimingApp(behaviour)

    def ready(port: int) -> None:
        print(f"listening on {args.host}:{port}", flush=True)

    serve = serve_asyncio if args.impl == "asyncio" else serve_uvicorn
    loop_factory = lambda: asyncio.SelectorEventLoop(SpinSelector(spin=not args.no_spin))  # noqa: E731
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(serve(app, args.host, args.port, ready))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
