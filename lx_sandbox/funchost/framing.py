"""Request body framing: decide how long a body is, then read exactly that, strictly.

The host reads the whole body before calling a function (as the Azure host does), so every
framing problem is answered here with a 4xx instead of surfacing as an exception inside a
handler. Werkzeug's dev-server dechunker is deliberately not used: it accepts truncated chunks
and raises plain ``OSError`` for bad ones, which would end up as a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from lx_sandbox.funchost.limits import MAX_HEADER_LINE_BYTES

_DIGITS = re.compile(r"[0-9]+")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_READ_PIECE = 1 << 20
_MAX_TRAILER_LINES = 100


class Stream(Protocol):
    """The reading half of a buffered socket file (or a ``BytesIO`` in tests)."""

    def read(self, size: int, /) -> bytes: ...

    def readline(self, size: int, /) -> bytes: ...


class RequestRejectedError(Exception):
    """The request cannot be served; answer ``status`` with ``reason`` and close."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Framing:
    """How the body is delimited: ``length`` bytes, or chunked (``length`` is then ``None``)."""

    length: int | None
    chunked: bool = False


def body_framing(
    content_lengths: list[str], transfer_encodings: list[str], max_bytes: int
) -> Framing:
    """Validate ``Content-Length``/``Transfer-Encoding`` headers before any body byte is read.

    Over the limit is 413 at once (nothing is read, so a huge declared length cannot hang the
    host); malformed, negative or conflicting lengths, and both headers at once (a request
    smuggling pattern, RFC 9112 section 6.3), are 400; codings other than ``chunked`` are 501.
    """
    if transfer_encodings:
        if content_lengths:
            raise RequestRejectedError(400, "both Transfer-Encoding and Content-Length were sent")
        codings = [c.strip().lower() for v in transfer_encodings for c in v.split(",")]
        if codings != ["chunked"]:
            raise RequestRejectedError(
                501, f"unsupported Transfer-Encoding {', '.join(codings)!r}; only chunked"
            )
        return Framing(length=None, chunked=True)
    values = {v.strip() for raw in content_lengths for v in raw.split(",")}
    if not values:
        return Framing(length=0)
    if not all(_DIGITS.fullmatch(v) for v in values):
        raise RequestRejectedError(400, "Content-Length must be a non-negative integer")
    normalised = {v.lstrip("0") or "0" for v in values}
    if len(normalised) > 1:
        raise RequestRejectedError(400, "conflicting Content-Length values")
    digits = normalised.pop()
    # Compare the text first: int() refuses strings over 4,300 digits (a ValueError, a 500).
    if len(digits) > len(str(max_bytes)) or int(digits) > max_bytes:
        raise RequestRejectedError(413, too_large(max_bytes))
    return Framing(length=int(digits))


def too_large(max_bytes: int) -> str:
    return f"request body exceeds the host's limit of {max_bytes} bytes"


def read_body(stream: Stream, framing: Framing, max_bytes: int) -> bytes:
    """The whole body as framed; a short or malformed one is ``RequestRejectedError(400)``."""
    if framing.chunked:
        return read_chunked(stream, max_bytes)
    return read_exact(stream, framing.length or 0)


def read_exact(stream: Stream, length: int) -> bytes:
    """Exactly ``length`` bytes, in pieces so memory follows what actually arrives."""
    body = bytearray()
    while len(body) < length:
        piece = stream.read(min(_READ_PIECE, length - len(body)))
        if not piece:
            raise RequestRejectedError(
                400, f"body ended after {len(body)} of {length} declared bytes"
            )
        body += piece
    return bytes(body)


def read_chunked(stream: Stream, max_bytes: int) -> bytes:
    """Decode ``Transfer-Encoding: chunked`` strictly (CRLF everywhere, sizes in hex)."""
    body = bytearray()
    while True:
        line = _line(stream, "chunk size line")
        size_text = line.split(b";", 1)[0].strip(b" \t")  # chunk extensions are ignored
        if not _HEX.fullmatch(size_text):
            raise RequestRejectedError(400, "malformed chunk size line")
        size = int(size_text, 16)
        if size == 0:
            break
        if len(body) + size > max_bytes:
            raise RequestRejectedError(413, too_large(max_bytes))
        try:
            body += read_exact(stream, size)
        except RequestRejectedError:
            raise RequestRejectedError(400, "chunked body is truncated") from None
        if stream.read(2) != b"\r\n":
            raise RequestRejectedError(400, "chunk data is not followed by CRLF")
    for _ in range(_MAX_TRAILER_LINES):
        if not _line(stream, "trailer line"):
            return bytes(body)
    raise RequestRejectedError(400, "too many trailer lines")


def _line(stream: Stream, what: str) -> bytes:
    """One CRLF-terminated line without its CRLF."""
    line = stream.readline(MAX_HEADER_LINE_BYTES + 1)
    if not line:
        raise RequestRejectedError(400, "chunked body is truncated")
    if len(line) > MAX_HEADER_LINE_BYTES:
        raise RequestRejectedError(400, f"{what} is too long")
    if not line.endswith(b"\r\n"):
        raise RequestRejectedError(400, f"{what} does not end with CRLF")
    return line[:-2]
