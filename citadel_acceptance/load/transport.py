"""A socket layer under httpx that knows when bytes really left and arrived.

httpx hands a streamed answer over only when the event loop gets round to it; with many streams the
loop is busy and that moment can be milliseconds after the bytes arrived. This network backend for
httpcore reads with `recvmsg` and asks the kernel for each read's receive timestamp
(`SO_TIMESTAMPNS`, Linux), converted to `time.perf_counter()`; it also stamps the instant a request's
first byte is written. The engine reads both from `response.extensions["network_stream"]`. Where the
kernel gives no timestamp (another OS, TLS), the stamp is the loop's clock when the bytes were read.

A read's stamp is the arrival of the newest segment it returned (Linux stamps a TCP read with the tail of the
receive queue, however few bytes are asked for; measured 2026-12-06): bytes that waited in the queue for a later
segment are stamped with its arrival. Each read is numbered (`reads`) so that the engine can tell which parts of
an answer one read delivered, and flag a first chunk that shared its read with later bytes (sse.StreamState).
"""
from __future__ import annotations

import asyncio
import ipaddress
import select
import socket
import ssl
import struct
import sys
import time
from typing import Any, Callable, Iterable

import httpcore
import httpx

# Linux (asm-generic) values; Python's socket module does not name them.
SO_TIMESTAMPNS = 35
SCM_TIMESTAMPNS = SO_TIMESTAMPNS
_TIMESPEC = struct.Struct("@ll")
_ANCILLARY_SIZE = socket.CMSG_SPACE(_TIMESPEC.size)
# A kernel stamp older than this is not trusted (clock stepped): the loop's clock is used instead.
_MAX_KERNEL_AGE_S = 10.0


def kernel_timestamps_supported() -> bool:
    """Whether this OS offers per-read receive timestamps on TCP sockets (Linux)."""
    return sys.platform.startswith("linux")


def _kernel_arrival(ancillary: list[tuple[int, int, bytes]], now: float) -> float | None:
    """The receive timestamp carried by `ancillary`, as perf_counter seconds; None if absent or implausible."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            seconds, nanos = _TIMESPEC.unpack_from(data)
            age = (time.clock_gettime_ns(time.CLOCK_REALTIME) - (seconds * 1_000_000_000 + nanos)) / 1e9
            if 0 <= age < _MAX_KERNEL_AGE_S:
                return now - age
            return now if -0.001 < age < 0 else None
    return None


def _readable_now(sock: socket.socket) -> bool:
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class StampedStream(httpcore.AsyncNetworkStream):
    """A TCP connection that records when the last bytes arrived and when the current request was written.

    `last_arrival`: arrival of the bytes the latest `read` returned (its newest segment's); `reads`: that
    read's number. `write_started`: when the first byte of the latest batch of writes (one request) went
    to the socket. `first_arrival`: arrival of the first bytes read after that batch (the answer's first
    byte). All perf_counter seconds.
    `timestamps` is "kernel" or "loop".
    """

    def __init__(self, sock: socket.socket, kernel: bool) -> None:
        self._sock = sock
        self._loop = asyncio.get_running_loop()
        self.timestamps = "kernel" if kernel else "loop"
        self._kernel = kernel
        self._writing = False
        self.last_arrival: float | None = None
        self.write_started: float | None = None
        self.first_arrival: float | None = None
        self.reads = 0  # reads that returned bytes: the number of the read `last_arrival` stamps

    async def _wait(self, add: Callable[..., Any], remove: Callable[[int], Any], timeout: float | None) -> bool:
        fd = self._sock.fileno()
        waiter: asyncio.Future[bool] = self._loop.create_future()
        add(fd, _settle, waiter, True)
        expiry = self._loop.call_later(timeout, _settle, waiter, False) if timeout is not None else None
        try:
            return await waiter
        finally:
            remove(fd)
            if expiry is not None:
                expiry.cancel()

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Read up to `max_bytes`, stamping their arrival."""
        while True:
            try:
                if self._kernel:
                    data, ancillary, _flags, _address = self._sock.recvmsg(max_bytes, _ANCILLARY_SIZE)
                else:
                    data, ancillary = self._sock.recv(max_bytes), []
            except (BlockingIOError, InterruptedError):
                if not await self._wait(self._loop.add_reader, self._loop.remove_reader, timeout):
                    raise httpcore.ReadTimeout(f"no bytes arrived within {timeout} s")
                continue
            except OSError as exc:
                raise httpcore.ReadError(f"reading the socket failed: {exc}") from exc
            now = time.perf_counter()
            arrival = (_kernel_arrival(ancillary, now) if ancillary else None) or now
            self.last_arrival = arrival
            self.reads += 1
            if self._writing:
                self._writing = False
                self.first_arrival = arrival
            return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write all of `buffer`, stamping the first byte of a request."""
        if not self._writing:
            self._writing = True
            self.write_started = time.perf_counter()
        view = memoryview(buffer)
        while view:
            try:
                sent = self._sock.send(view)
            except (BlockingIOError, InterruptedError):
                if not await self._wait(self._loop.add_writer, self._loop.remove_writer, timeout):
                    raise httpcore.WriteTimeout(f"the socket took no bytes within {timeout} s")
                continue
            except OSError as exc:
                raise httpcore.WriteError(f"writing the socket failed: {exc}") from exc
            view = view[sent:]

    async def aclose(self) -> None:
        """Close the socket."""
        self._sock.close()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        """Hand the socket to asyncio's TLS; arrivals are then stamped with the loop's clock."""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(
                sock=self._sock, ssl=ssl_context, server_hostname=server_hostname), timeout)
        except asyncio.TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"the TLS handshake took more than {timeout} s") from exc
        except (OSError, ssl.SSLError) as exc:
            raise httpcore.ConnectError(f"the TLS handshake failed: {exc}") from exc
        return TlsStream(reader, writer)

    def get_extra_info(self, info: str) -> Any:
        """What httpcore asks of a connection: the socket, its addresses, whether it is readable."""
        if info == "socket":
            return self._sock
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "is_readable":
            return _readable_now(self._sock)
        return None


def _settle(waiter: asyncio.Future[bool], value: bool) -> None:
    if not waiter.done():
        waiter.set_result(value)


class TlsStream(httpcore.AsyncNetworkStream):
    """A TLS connection over asyncio streams; stamps are the loop's clock when bytes are read."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.timestamps = "loop"
        self._writing = False
        self.last_arrival: float | None = None
        self.write_started: float | None = None
        self.first_arrival: float | None = None
        self.reads = 0

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Read up to `max_bytes` of plaintext."""
        try:
            data = await asyncio.wait_for(self._reader.read(max_bytes), timeout)
        except asyncio.TimeoutError as exc:
            raise httpcore.ReadTimeout(f"no bytes arrived within {timeout} s") from exc
        except (OSError, ssl.SSLError) as exc:
            raise httpcore.ReadError(f"reading the TLS stream failed: {exc}") from exc
        self.last_arrival = time.perf_counter()
        self.reads += 1
        if self._writing:
            self._writing = False
            self.first_arrival = self.last_arrival
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write all of `buffer`."""
        if not self._writing:
            self._writing = True
            self.write_started = time.perf_counter()
        try:
            self._writer.write(buffer)
            await asyncio.wait_for(self._writer.drain(), timeout)
        except asyncio.TimeoutError as exc:
            raise httpcore.WriteTimeout(f"the TLS stream took no bytes within {timeout} s") from exc
        except (OSError, ssl.SSLError) as exc:
            raise httpcore.WriteError(f"writing the TLS stream failed: {exc}") from exc

    async def aclose(self) -> None:
        """Close the TLS stream."""
        self._writer.close()

    def get_extra_info(self, info: str) -> Any:
        """The TLS object, the socket and its readability, as httpcore asks."""
        sock = self._writer.get_extra_info("socket")
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "socket":
            return sock
        if info == "is_readable":
            return sock is not None and _readable_now(sock)
        return None


class StampingBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend for the load engine: TCP connections that are `StampedStream`s."""

    def __init__(self, kernel_timestamps: bool = True) -> None:
        self.kernel_timestamps = kernel_timestamps and kernel_timestamps_supported()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        """Open a non-blocking TCP connection (no Nagle), asking for receive timestamps."""
        loop = asyncio.get_running_loop()
        try:
            ipaddress.ip_address(host)
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            addresses: list[tuple[Any, ...]] = [(family, socket.SOCK_STREAM, 0, "", (host, port))]
        except ValueError:
            addresses = list(await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        problem: Exception | None = None
        for family, kind, proto, _name, address in addresses:
            sock = socket.socket(family, kind, proto)
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for option in socket_options or ():
                    sock.setsockopt(*option)
                if local_address:
                    sock.bind((local_address, 0))
                kernel = False
                if self.kernel_timestamps:
                    try:
                        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                        kernel = True
                    except OSError:
                        kernel = False
                await asyncio.wait_for(loop.sock_connect(sock, address), timeout)
                return StampedStream(sock, kernel)
            except asyncio.TimeoutError as exc:
                sock.close()
                raise httpcore.ConnectTimeout(f"connecting to {host}:{port} took more than {timeout} s") from exc
            except OSError as exc:
                sock.close()
                problem = exc
        raise httpcore.ConnectError(f"could not connect to {host}:{port}: {problem}")

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        """Unix sockets are not used by the load engine."""
        raise httpcore.ConnectError(f"the load engine does not connect to unix sockets ({path})")

    async def sleep(self, seconds: float) -> None:
        """Sleep on the running loop."""
        await asyncio.sleep(seconds)


class DirectPool:
    """A connection pool that costs O(1) per request: a stack of idle keep-alive connections per origin.

    httpcore's own pool re-examines every connection for every queued request (quadratic in the
    requests in flight); at 64 concurrent streams that alone saturated a core. The engine bounds
    concurrency itself, so this pool only reuses idle connections and opens new ones.
    """

    def __init__(self, backend: httpcore.AsyncNetworkBackend, ssl_context: ssl.SSLContext | None,
                 keepalive_expiry: float | None, max_idle: int | None) -> None:
        self._backend = backend
        self._ssl_context = ssl_context
        self._keepalive_expiry = keepalive_expiry
        self._max_idle = max_idle
        self._idle: dict[tuple[bytes, bytes, int], list[httpcore.AsyncHTTPConnection]] = {}

    async def _take(self, origin: httpcore.Origin) -> httpcore.AsyncHTTPConnection:
        idle = self._idle.get(_key(origin))
        while idle:
            connection = idle.pop()
            if connection.is_idle() and not connection.has_expired():
                return connection
            await connection.aclose()
        return httpcore.AsyncHTTPConnection(origin=origin, ssl_context=self._ssl_context,
                                            keepalive_expiry=self._keepalive_expiry, network_backend=self._backend)

    async def _give_back(self, connection: httpcore.AsyncHTTPConnection) -> None:
        idle = self._idle.setdefault(_key(connection._origin), [])
        if connection.is_idle() and (self._max_idle is None or len(idle) < self._max_idle):
            idle.append(connection)
        else:
            await connection.aclose()

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        """Send on an idle connection to the request's origin, or a new one."""
        connection = await self._take(request.url.origin)
        try:
            response = await connection.handle_async_request(request)
        except BaseException:
            await connection.aclose()
            raise
        return httpcore.Response(status=response.status, headers=response.headers,
                                 content=_ReturningStream(response, connection, self), extensions=response.extensions)

    async def aclose(self) -> None:
        """Close every idle connection."""
        for idle in self._idle.values():
            for connection in idle:
                await connection.aclose()
        self._idle.clear()

    async def __aenter__(self) -> DirectPool:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()


def _key(origin: httpcore.Origin) -> tuple[bytes, bytes, int]:
    return origin.scheme, origin.host, origin.port


class _ReturningStream:
    """A response body that gives its connection back to the pool once closed."""

    def __init__(self, response: httpcore.Response, connection: httpcore.AsyncHTTPConnection, pool: DirectPool) -> None:
        self._response = response
        self._connection = connection
        self._pool = pool
        self._closed = False

    async def __aiter__(self) -> Any:
        async for part in self._response.aiter_stream():
            yield part

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._response.aclose()
        except BaseException:
            await self._connection.aclose()
            raise
        await self._pool._give_back(self._connection)


def stamped_transport(limits: httpx.Limits, kernel_timestamps: bool = True,
                      verify: ssl.SSLContext | bool = True) -> httpx.AsyncHTTPTransport:
    """An httpx transport over `DirectPool` and `StampedStream` (httpx's request and HTTP/1.1 code)."""
    transport = httpx.AsyncHTTPTransport(limits=limits, verify=verify)
    ssl_context = getattr(transport._pool, "_ssl_context", None)
    transport._pool = DirectPool(StampingBackend(kernel_timestamps), ssl_context, limits.keepalive_expiry,
                                 limits.max_keepalive_connections)
    return transport
