"""The HTTP/1.1 front of the host: limits, strict body framing and timeouts, before any WSGI.

Werkzeug's dev server reads request lines of any length, waits forever for a body shorter than
its ``Content-Length``, lets a malformed chunk surface as an exception inside the app (a 500),
and has no overall request timeout. This handler reads the request line, headers and the whole
body itself, under ``HostLimits``, and answers every problem with a short JSON error and
``Connection: close`` (400, 408, 413, 414, 431, 501); the WSGI app only ever sees complete,
well-framed requests. No traceback can reach the client: the answers are built here from fixed
text, and the host's WSGI app maps function exceptions to a bare 500.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import time
from http import HTTPStatus
from typing import TYPE_CHECKING, ClassVar

from werkzeug.serving import WSGIRequestHandler

from lx_sandbox.funchost import activity
from lx_sandbox.funchost.framing import RequestRejectedError, body_framing, read_body
from lx_sandbox.funchost.limits import HostLimits

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer
    from _typeshed.wsgi import WSGIEnvironment

log = logging.getLogger(__name__)

_REQUEST_LINE_SLACK = 64  # method, spaces, "HTTP/1.1" and CRLF around the URL
_MAX_REASON = 200


class DeadlineReader(io.RawIOBase):
    """Socket reads that share one deadline per request.

    A per-``recv`` timeout alone lets a client that drips a byte just inside it hold a request
    open forever; checking what is left of the deadline before every ``recv`` bounds the whole
    request line, headers and body.
    """

    def __init__(self, sock: socket.socket, write_timeout_s: float) -> None:
        self._sock = sock
        self._write_timeout_s = write_timeout_s
        self._deadline: float | None = None
        self.received = 0

    def arm(self, seconds: float) -> None:
        """Start a deadline ``seconds`` from now and count bytes from zero."""
        self._deadline = time.monotonic() + seconds
        self.received = 0

    def disarm(self) -> None:
        """The request is in: later reads and the answer's writes use the plain timeout."""
        self._deadline = None
        self._sock.settimeout(self._write_timeout_s)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        timeout = self._write_timeout_s
        if self._deadline is not None:
            timeout = self._deadline - time.monotonic()
            if timeout <= 0:
                raise TimeoutError("request not received in time")
        self._sock.settimeout(timeout)
        count = self._sock.recv_into(buffer)
        self.received += count
        return count


class HardenedRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler with the request read under ``limits`` (see ``handler_for``)."""

    limits: ClassVar[HostLimits] = HostLimits()
    protocol_version = "HTTP/1.1"

    _reader: DeadlineReader
    _body: bytes = b""
    _framed = False
    _expects_continue = False

    def setup(self) -> None:
        super().setup()  # sets the socket timeout from the class's ``timeout``
        self.rfile.close()  # replaced by one whose reads share the request deadline
        self._reader = DeadlineReader(self.connection, self.limits.request_timeout_s)
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        """Read one whole request under the limits, then hand it to werkzeug's ``run_wsgi``."""
        self._reset()
        self._reader.arm(self.limits.request_timeout_s)
        try:
            if not self._read_head():
                return
            self._body = self._read_body()
        except TimeoutError:
            self._timed_out()
            return
        except RequestRejectedError as exc:
            self._reject(exc.status, exc.reason, linger=True)
            return
        except ConnectionError:
            raise  # werkzeug's handle() treats a dropped client quietly
        except OSError:
            self.close_connection = True
            return
        except Exception:
            log.exception("funchost: could not read a request")
            self._reject(500, "internal error reading the request", linger=False)
            return
        self._reader.disarm()
        self.run_wsgi()

    # -- reading ---------------------------------------------------------------------------

    def _reset(self) -> None:
        # Like http.server before a request line is parsed, so an early answer can be sent.
        self.requestline, self.request_version, self.command = "", "", ""
        self._body, self._framed, self._expects_continue = b"", False, False

    def _read_head(self) -> bool:
        limit = self.limits.max_url_bytes + _REQUEST_LINE_SLACK
        line = self.rfile.readline(limit + 1)
        if not line:
            self.close_connection = True
            return False
        if len(line) > limit:
            raise RequestRejectedError(414, self._url_too_long())
        self.raw_requestline = line
        if not self.parse_request():
            return False  # answered through send_error (400, 431, 505)
        if len(self.path) > self.limits.max_url_bytes:  # latin-1 text: one char per byte
            raise RequestRejectedError(414, self._url_too_long())
        return True

    def _read_body(self) -> bytes:
        lengths = self.headers.get_all("Content-Length") or []
        codings = self.headers.get_all("Transfer-Encoding") or []
        framing = body_framing(lengths, codings, self.limits.max_body_bytes)
        self._framed = bool(lengths or codings)
        if self._expects_continue and (framing.chunked or framing.length):
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # only once the size is fine
        del self.headers["Expect"]  # so run_wsgi does not send a second 100 Continue
        return read_body(self.rfile, framing, self.limits.max_body_bytes)

    def _url_too_long(self) -> str:
        return f"URL exceeds the host's limit of {self.limits.max_url_bytes} bytes"

    def handle_expect_100(self) -> bool:
        """Defer ``100 Continue`` until the declared length has been checked."""
        self._expects_continue = True
        return True

    def make_environ(self) -> WSGIEnvironment:
        """Werkzeug's environ, with the body already read and de-chunked."""
        environ = super().make_environ()
        environ["wsgi.input"] = io.BytesIO(self._body)
        environ.pop("wsgi.input_terminated", None)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        if self._framed:
            environ["CONTENT_LENGTH"] = str(len(self._body))
        return environ

    # -- answering -------------------------------------------------------------------------

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (bad request line, header too long) as JSON, too."""
        self._reject(code, message or HTTPStatus(code).phrase, linger=True)

    def _timed_out(self) -> None:
        self.close_connection = True
        if self._reader.received == 0:
            return  # an idle connection: nothing to answer
        self._reject(
            408, f"request not received within {self.limits.request_timeout_s:g} s", linger=False
        )

    def _reject(self, status: int, reason: str, *, linger: bool) -> None:
        """Answer ``status`` with ``{"error": reason}`` and close the connection."""
        self.close_connection = True
        self._reader.disarm()
        if self.request_version == "HTTP/0.9":
            self.request_version = ""  # an unparsable line: still answer with status and headers
        activity.log_refusal(status, self.command or "-", getattr(self, "path", "") or "", reason)
        body = json.dumps({"error": reason[:_MAX_REASON]}).encode()
        if self.command == "HEAD":
            body = b""
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            return
        if linger:
            self._linger()

    def _linger(self) -> None:
        """Drop what the client still sends for a moment, so it reads our answer, not a reset.

        Closing a socket with unread input makes the kernel send RST, which can destroy the
        answer before the client reads it (a client still uploading a refused body).
        """
        self._reader.arm(self.limits.linger_s)
        try:
            self.connection.shutdown(socket.SHUT_WR)
            while self.rfile.read1(65536):
                pass
        except OSError:
            pass

    def log(self, type: str, message: str, *args: object) -> None:
        """Werkzeug's access log, with ``?code=`` function keys masked."""
        super().log(type, "%s", activity.redact(message % args if args else message))


def handler_for(limits: HostLimits) -> type[HardenedRequestHandler]:
    """A handler class bound to ``limits`` (socketserver wants a class, not an instance)."""

    class FunctionsHostHandler(HardenedRequestHandler):
        pass

    FunctionsHostHandler.limits = limits
    FunctionsHostHandler.timeout = limits.request_timeout_s
    return FunctionsHostHandler
