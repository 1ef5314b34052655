"""A free TCP port on the loopback interface, for child servers (the local model, the demo's
embedded server) and tests. Another process may take it before it is bound again; callers that
start a server on it retry or fail loudly."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
