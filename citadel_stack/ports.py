"""Free TCP ports on the loopback interface."""
from __future__ import annotations

import socket

_HANDED_OUT: set[int] = set()  # parts of one stack boot side by side: never give a port twice before it is bound


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the OS picks it), not handed out before by this process."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port
    raise OSError("no fresh free port found on the loopback interface")
