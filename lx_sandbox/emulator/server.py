"""``SandboxServer``: the emulator on a real loopback port (HTTP, or HTTPS on request)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import TracebackType

from lx_sandbox.emulator.app import create_app
from lx_sandbox.emulator.certs import write_self_signed
from lx_sandbox.emulator.config import SandboxConfig
from lx_sandbox.emulator.core import Emulator
from lx_sandbox.emulator.serving import ThreadedServer, bind_loopback


class SandboxServer:
    """Start/stop a LeanIX emulator in a background thread.

    >>> with SandboxServer(SandboxConfig(seed="demo")) as server:
    ...     server.url  # e.g. "http://127.0.0.1:54321"
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.emulator: Emulator | None = None
        self.cert_file: Path | None = None
        self._server: ThreadedServer | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.url = ""

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        return int(self.url.rsplit(":", 1)[1]) if self.url else 0

    def start(self) -> SandboxServer:
        """Bind, seed and serve; returns self once requests are accepted."""
        cfg = self.config
        sock = bind_loopback(cfg.host, cfg.port)
        port = sock.getsockname()[1]
        scheme = "https" if cfg.https else "http"
        host = "127.0.0.1" if cfg.host == "localhost" else cfg.host
        self.url = f"{scheme}://{host}:{port}"
        emu = Emulator(cfg)
        emu.base_url = self.url
        self.emulator = emu
        certfile = keyfile = None
        if cfg.https:
            if cfg.cert_file is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="lx-sandbox-tls-")
                certfile = Path(self._tmp.name) / "sandbox-cert.pem"
            else:
                certfile = Path(cfg.cert_file)
            keyfile = certfile.with_name(certfile.name + ".key")
            write_self_signed(certfile, keyfile)
            self.cert_file = certfile
        self._server = ThreadedServer(
            create_app(emu),
            sock,
            log_level=cfg.log_level,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
        )
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving; background delivery tasks end with the server's loop."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
