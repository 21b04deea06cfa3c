"""Run an ASGI app with uvicorn in a background thread on a loopback socket we bind ourselves.

Binding first (port 0 allowed) means the real port is known before the server starts, so the
emulator can put its own URL into tokens (``instanceUrl``). Shared by the emulator and the sink.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp


def bind_loopback(host: str, port: int) -> socket.socket:
    """A listening TCP socket; refuses non-loopback hosts."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the sandbox binds to loopback only, not {host!r}")
    family = socket.AF_INET6 if host == "::1" else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # is TCP; without it every response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class ThreadedServer:
    """uvicorn serving ``app`` on ``sock`` in a daemon thread."""

    def __init__(
        self,
        app: ASGIApp,
        sock: socket.socket,
        *,
        log_level: str = "warning",
        ssl_certfile: Path | None = None,
        ssl_keyfile: Path | None = None,
    ) -> None:
        self._sock = sock
        config = uvicorn.Config(
            app,
            log_level=log_level,
            access_log=False,
            lifespan="on",
            ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
            ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
            timeout_keep_alive=30,
            # A TLS client that keeps an idle connection open would otherwise hold shutdown for
            # the SSL close timeout.
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="lx-sandbox", daemon=True
        )

    def start(self, timeout: float = 10.0) -> None:
        """Start and wait until uvicorn accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("server thread exited during start-up")
            if time.monotonic() > deadline:
                raise TimeoutError("server did not start in time")
            time.sleep(0.01)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit, wait for the thread, close the socket."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(min(timeout, 3.0))
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> ThreadedServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
