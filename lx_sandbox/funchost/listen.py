"""Bind the host's listening socket, with an error that says which port is taken.

``lx sandbox up --host-port 7071`` in a second terminal is a common first-hour mistake; it
should end with "port 7071 is already in use", not a traceback or a silent ``sys.exit(1)``.
"""

from __future__ import annotations

import errno
import socket

BACKLOG = 128


class PortInUseError(OSError):
    """Another process listens on the fixed port that was asked for."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(errno.EADDRINUSE, f"port {port} on {host} is already in use")
        self.host = host
        self.port = port


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0 picks a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # only TIME_WAIT leftovers
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(host, port) from exc
        raise
    return sock
