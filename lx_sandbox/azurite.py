"""Azurite: the Azure Storage emulator (npm), run on free loopback ports for tests and the sandbox.

The state store's Azure backend is tested against the real protocol, not a mock, so the tests
need Azurite itself. ``make azurite`` installs the pinned version under ``.tools/`` (3.35.0 is the
newest that runs on Node 20). ``Azurite`` starts the ``.bin/azurite`` node script directly (not
``npx``), so the process it stops is the emulator itself, with telemetry off and its data in
``location``, which survives ``restart()``.

The account name and key are Azurite's published development credentials, not secrets.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from lx_core.config import StateSettings

ROOT = Path(__file__).resolve().parent.parent
VERSION = "3.35.0"
BINARY = ROOT / ".tools" / "node_modules" / ".bin" / "azurite"
ACCOUNT_NAME = "devstoreaccount1"
#: Azurite's well-known development key (documented by Microsoft; every Azurite accepts it).
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
INSTALL_HINT = "run `make azurite` (needs Node.js 20+ and npm)"
_LOG_NAME = "azurite-process.log"


class AzuriteError(RuntimeError):
    """Azurite could not be started, or is not installed."""


class AzuriteNotInstalledError(AzuriteError):
    """Node.js or the Azurite npm package is missing; the message says how to install it."""


def _free_ports(host: str, count: int) -> list[int]:
    """``count`` distinct ports free on ``host`` right now (all bound at once, then released)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((host, 0))
            ports.append(int(sock.getsockname()[1]))
    return ports


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def check_installed(binary: Path = BINARY) -> Path:
    """``binary`` if Node.js and Azurite are installed, else AzuriteNotInstalledError."""
    if shutil.which("node") is None:
        raise AzuriteNotInstalledError(
            "Azurite needs Node.js 20+ and `node` is not on PATH: install Node.js and npm, "
            "then run `make azurite`"
        )
    if not binary.exists():
        shown = binary.relative_to(ROOT) if binary.is_relative_to(ROOT) else binary
        raise AzuriteNotInstalledError(
            f"Azurite {VERSION} is not installed ({shown} is missing): {INSTALL_HINT}"
        )
    return binary


class Azurite:
    """One Azurite process (blob, queue and table services). ``with Azurite() as az:``.

    Ports are chosen on the first ``start()`` and kept by ``restart()``, so clients built from
    ``connection_string`` keep working across a restart. Without ``location`` the data lives in a
    temporary directory that ``close()`` removes.
    """

    def __init__(
        self,
        location: str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        start_timeout: float = 30.0,
        binary: Path = BINARY,
    ) -> None:
        self.host = host
        self.start_timeout = start_timeout
        self.binary = binary
        self._own_location = location is None
        self.location = Path(location or tempfile.mkdtemp(prefix="lx-azurite-"))
        self.blob_port = self.queue_port = self.table_port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    # -- addresses -----------------------------------------------------------------------------

    def _endpoint(self, port: int) -> str:
        if not port:
            raise AzuriteError("Azurite has not been started yet")
        return f"http://{self.host}:{port}/{ACCOUNT_NAME}"

    @property
    def table_endpoint(self) -> str:
        return self._endpoint(self.table_port)

    @property
    def blob_endpoint(self) -> str:
        return self._endpoint(self.blob_port)

    @property
    def queue_endpoint(self) -> str:
        return self._endpoint(self.queue_port)

    @property
    def connection_string(self) -> str:
        """A storage connection string for all three services (Azurite's public dev key)."""
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.blob_endpoint};QueueEndpoint={self.queue_endpoint};"
            f"TableEndpoint={self.table_endpoint};"
        )

    def state_settings(self, table_name: str = "lxstate", **overrides: Any) -> StateSettings:
        """lx_core's StateSettings for this Azurite, every field explicit so that a developer's
        own LX_STATE_* environment cannot leak in."""
        from pydantic import SecretStr

        from lx_core.config import StateSettings

        values: dict[str, Any] = {
            "table_endpoint": None,
            "connection_string": SecretStr(self.connection_string),
            "table_name": table_name,
            "client_id": None,
            "timeout_seconds": 5.0,
        }
        values.update(overrides)
        return StateSettings(**values)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Self:
        """Start Azurite and wait until every service accepts connections."""
        if self.running:
            return self
        binary = check_installed(self.binary)
        if not self.table_port:
            self.blob_port, self.queue_port, self.table_port = _free_ports(self.host, 3)
        self.location.mkdir(parents=True, exist_ok=True)
        command = [
            str(binary),
            "--silent",
            "--disableTelemetry",
            "--skipApiVersionCheck",
            "--location", str(self.location),
            "--blobHost", self.host, "--blobPort", str(self.blob_port),
            "--queueHost", self.host, "--queuePort", str(self.queue_port),
            "--tableHost", self.host, "--tablePort", str(self.table_port),
        ]  # fmt: skip
        self._log = (self.location / _LOG_NAME).open("ab")
        self._proc = subprocess.Popen(  # noqa: S603 - our own pinned binary, fixed arguments
            command, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        ports = (self.blob_port, self.queue_port, self.table_port)
        while True:
            if self._proc is not None and self._proc.poll() is not None:
                code = self._proc.returncode
                self.stop()
                raise AzuriteError(f"Azurite exited with code {code} at start: {self._log_tail()}")
            if all(_answers(self.host, port) for port in ports):
                return
            if time.monotonic() > deadline:
                self.stop()
                raise AzuriteError(
                    f"Azurite did not answer on ports {ports} within {self.start_timeout:g} s: "
                    f"{self._log_tail()}"
                )
            time.sleep(0.05)

    def _log_tail(self, limit: int = 800) -> str:
        try:
            text = (self.location / _LOG_NAME).read_text(errors="replace")
        except OSError:
            return "(no log)"
        return text[-limit:].strip() or "(empty log)"

    def stop(self) -> None:
        """Stop the process (SIGTERM, so Azurite saves its data; SIGKILL after 10 s)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> Self:
        """Stop and start again on the same ports and location: the data survives."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop, and remove the data directory if this object created it."""
        self.stop()
        if self._own_location:
            shutil.rmtree(self.location, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
