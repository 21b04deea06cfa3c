"""A local SMTP server that records every mail it accepts, for tests and the demo.

STARTTLS is required (aiosmtpd answers ``530`` to any mail command sent in the clear), with a
self-signed certificate whose file a client trusts as its CA, so real clients keep certificate
verification on. ``AUTH`` is offered after STARTTLS only and accepts any credentials, so a client
configured with a username and password works unchanged; clients without credentials work too.
``fail_next`` makes the next RCPT/DATA answers temporary failures to exercise a client's retry.

Run it with ``MailServer`` (tests) or ``python -m lx_sandbox.mail --port N``. Like the emulator it
never imports ``lx_core`` or ``functions``.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import socket
import ssl
import tempfile
import threading
from collections.abc import Awaitable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import TracebackType
from typing import Any, overload

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from lx_sandbox.emulator.certs import write_self_signed
from lx_sandbox.emulator.serving import bind_loopback

CERT_NAME = "smtp-cert.pem"
KEY_NAME = "smtp-key.pem"
DEFAULT_FAULT_MESSAGE = "4.3.0 Temporary failure (injected fault), try again later"


@dataclass(frozen=True, slots=True)
class MailMessage:
    """One accepted mail: the envelope, the raw text and the parts tests usually check."""

    mail_from: str
    rcpt_tos: list[str]
    data: str
    subject: str | None
    message_id: str | None
    to: list[str]
    text: str | None
    html: str | None
    tls: bool
    authenticated: bool
    received_at: datetime
    message: EmailMessage = field(repr=False)


def parse_mail(
    raw: bytes, *, mail_from: str, rcpt_tos: Sequence[str], tls: bool, authenticated: bool
) -> MailMessage:
    """Parse ``raw`` (what DATA carried) with the modern ``email`` policy."""
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    if not isinstance(parsed, EmailMessage):  # policy.default always yields EmailMessage
        raise TypeError("the email parser did not return an EmailMessage")
    return MailMessage(
        mail_from=mail_from,
        rcpt_tos=list(rcpt_tos),
        data=raw.decode("utf-8", errors="replace"),
        subject=_header(parsed, "Subject"),
        message_id=_header(parsed, "Message-ID"),
        to=_addresses(parsed, "To"),
        text=_body(parsed, "plain"),
        html=_body(parsed, "html"),
        tls=tls,
        authenticated=authenticated,
        received_at=datetime.now(UTC),
        message=parsed,
    )


def _header(message: EmailMessage, name: str) -> str | None:
    value = message.get(name)
    return None if value is None else str(value)


def _addresses(message: EmailMessage, name: str) -> list[str]:
    """The addr-specs of an address header (``[]`` when absent)."""
    header = message.get(name)
    addresses = getattr(header, "addresses", ())
    return [str(a.addr_spec) for a in addresses]


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    content = part.get_content()
    return content if isinstance(content, str) else None


class MessageLog(Sequence[MailMessage]):
    """A list of recorded mail that the SMTP thread appends to and tests read and wait on."""

    def __init__(self) -> None:
        self._items: list[MailMessage] = []
        self._changed = threading.Condition()

    def append(self, message: MailMessage) -> None:
        """Record one mail and wake waiters."""
        with self._changed:
            self._items.append(message)
            self._changed.notify_all()

    def clear(self) -> None:
        """Forget every recorded mail."""
        with self._changed:
            self._items.clear()

    def snapshot(self) -> list[MailMessage]:
        """A copy, safe to iterate while mail keeps arriving."""
        with self._changed:
            return list(self._items)

    def wait(self, count: int, timeout: float) -> list[MailMessage]:
        """Block until at least ``count`` mails are recorded; ``TimeoutError`` otherwise."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._items) >= count, timeout):
                raise TimeoutError(
                    f"expected {count} mail(s) within {timeout}s, got {len(self._items)}"
                )
            return list(self._items)

    def __len__(self) -> int:
        with self._changed:
            return len(self._items)

    @overload
    def __getitem__(self, index: int) -> MailMessage: ...

    @overload
    def __getitem__(self, index: slice) -> list[MailMessage]: ...

    def __getitem__(self, index: int | slice) -> MailMessage | list[MailMessage]:
        with self._changed:
            return self._items[index]

    def __iter__(self) -> Iterator[MailMessage]:
        return iter(self.snapshot())


class _FaultBudget:
    """The pending injected failures, shared by the test thread and the SMTP thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._remaining = 0
        self._answer = ""

    def set(self, count: int, code: int, message: str) -> None:
        with self._lock:
            self._remaining = count
            self._answer = f"{code} {message}"

    def take(self) -> str | None:
        """The failure answer to send now, consuming one, or ``None``."""
        with self._lock:
            if self._remaining <= 0:
                return None
            self._remaining -= 1
            return self._answer

    @property
    def remaining(self) -> int:
        with self._lock:
            return self._remaining


class _RecordingHandler:
    """aiosmtpd handler hooks: inject faults on RCPT/DATA, record accepted mail."""

    def __init__(self, messages: MessageLog, faults: _FaultBudget) -> None:
        self.messages = messages
        self.faults = faults

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        failure = self.faults.take()
        if failure is not None:
            return failure
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        failure = self.faults.take()
        if failure is not None:
            return failure
        raw = envelope.original_content or b""
        self.messages.append(
            parse_mail(
                raw,
                mail_from=envelope.mail_from or "",
                rcpt_tos=envelope.rcpt_tos,
                tls=session.ssl is not None,
                authenticated=bool(session.authenticated),
            )
        )
        return "250 2.0.0 Message accepted for delivery"


def _accept_any_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    """Any credentials are fine: the sandbox tests delivery, not a mail provider's accounts."""
    return AuthResult(success=True, auth_data=auth_data)


class _SocketController(Controller):
    """aiosmtpd's threaded controller on a socket we bound already.

    ``Controller`` binds ``(hostname, port)`` itself, so "port 0" would mean finding a free port
    and hoping nobody takes it before the bind. Handing asyncio the bound socket closes that race.
    """

    def __init__(self, handler: _RecordingHandler, sock: socket.socket, **smtp: Any) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **smtp)
        self._sock = sock

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self.loop.create_server(self._factory_invoker, sock=self._sock)


class MailServer:
    """The SMTP server on a loopback port in a background thread (``with MailServer() as m:``).

    ``cert_file`` is the certificate a client must trust (it is its own CA): for ``smtplib``,
    ``ssl.create_default_context(cafile=server.cert_file)`` passed to ``starttls``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        cert_dir: Path | None = None,
        ready_timeout: float = 5.0,
        smtputf8: bool = True,
        auth: bool = True,
    ) -> None:
        self.host = host
        #: Offer SMTPUTF8 (non-ASCII mailboxes); off plays a server that cannot carry them.
        self.smtputf8 = smtputf8
        #: Offer AUTH after STARTTLS (any credentials pass); off plays a relay without login.
        self.auth = auth
        self.port = port
        self.messages = MessageLog()
        self._faults = _FaultBudget()
        self._cert_dir = cert_dir
        self._own_dir: Path | None = None
        self._ready_timeout = ready_timeout
        self._controller: _SocketController | None = None
        self.cert_file = Path()
        self.key_file = Path()

    @property
    def url(self) -> str:
        """``smtp://host:port`` (STARTTLS on the plain port, as on submission port 587)."""
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> MailServer:
        """Write the certificate, bind and serve."""
        if self._controller is not None:
            raise RuntimeError("the mail server is already running")
        directory = self._cert_dir
        if directory is None:
            directory = self._own_dir = Path(tempfile.mkdtemp(prefix="lx-mail-"))
        self.cert_file = directory / CERT_NAME
        self.key_file = directory / KEY_NAME
        write_self_signed(self.cert_file, self.key_file)
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(self.cert_file, self.key_file)
        sock = bind_loopback(self.host, self.port)
        self.port = sock.getsockname()[1]
        controller = _SocketController(
            _RecordingHandler(self.messages, self._faults),
            sock,
            ready_timeout=self._ready_timeout,
            # A fixed name: the default socket.getfqdn() can stall on a DNS lookup.
            server_hostname="localhost",
            tls_context=tls,
            require_starttls=True,
            auth_require_tls=True,
            authenticator=_accept_any_login,
            # No mechanism left: EHLO advertises no AUTH at all.
            auth_exclude_mechanism=() if self.auth else ("LOGIN", "PLAIN"),
            enable_SMTPUTF8=self.smtputf8,
        )
        try:
            controller.start()
        except BaseException:
            sock.close()
            self._remove_own_dir()
            raise
        self._controller = controller
        return self

    def stop(self) -> None:
        """Stop serving and remove the certificate directory the server created."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        self._remove_own_dir()

    def _remove_own_dir(self) -> None:
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)
            self._own_dir = None

    def wait(self, count: int = 1, timeout: float = 10.0) -> list[MailMessage]:
        """Block until ``count`` mails are recorded and return them all (``TimeoutError``)."""
        return self.messages.wait(count, timeout)

    def clear(self) -> None:
        """Forget recorded mail and pending faults."""
        self.messages.clear()
        self._faults.set(0, 451, DEFAULT_FAULT_MESSAGE)

    def fail_next(
        self, count: int = 1, code: int = 451, message: str = DEFAULT_FAULT_MESSAGE
    ) -> None:
        """Answer the next ``count`` RCPT/DATA commands with ``code message`` (replaces pending).

        Each RCPT (one per recipient) or DATA answer uses up one; ``count=0`` cancels.
        """
        if count < 0:
            raise ValueError("count must be >= 0")
        if not 400 <= code <= 599:
            raise ValueError("code must be a 4xx (temporary) or 5xx (permanent) SMTP reply")
        if "\r" in message or "\n" in message:
            raise ValueError("message must be a single line")
        self._faults.set(count, code, message)

    @property
    def pending_faults(self) -> int:
        """How many injected failures are still to be answered."""
        return self._faults.remaining

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m lx_sandbox.mail --port N``: serve in the foreground, print URL and cert."""
    parser = argparse.ArgumentParser(prog="python -m lx_sandbox.mail")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--cert-dir",
        type=Path,
        default=None,
        help="where to write the certificate (else a temp dir)",
    )
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with MailServer(port=args.port, cert_dir=args.cert_dir) as server:
        print(server.url, flush=True)
        print(server.cert_file, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
