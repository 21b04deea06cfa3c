"""The host's own HTTP answers over raw sockets: size limits, framing, URL length, slow clients.

Each request is written byte for byte, so the tests see exactly what a misbehaving client would,
and every refusal must be a short JSON error from the host, never a traceback or a hang.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from lx_sandbox.funchost import FunctionsHost, HostLimits
from lx_sandbox.funchost.limits import MAX_REQUEST_BODY_BYTES, MAX_URL_BYTES
from tests.sandbox.funchost_app.harness import (
    FUNCTION_KEY,
    RARE_SCHEDULE,
    restored_environ,
    running_host,
)

LIMIT = 1024  # the small body limit of the ``small`` host
TIMEOUT = 0.5  # its request timeout
ECHO = f"/api/items/1?code={FUNCTION_KEY}"  # POST, echoes the body it received as JSON


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float
    raw: bytes

    def json(self) -> dict[str, object]:
        data: dict[str, object] = json.loads(self.body)
        return data


@pytest.fixture(autouse=True)
def funchost_env() -> Iterator[None]:
    with restored_environ():
        os.environ["TEST_TIMER_SCHEDULE"] = RARE_SCHEDULE
        yield


@pytest.fixture
def small(tmp_path: Path) -> Iterator[FunctionsHost]:
    """A host with a 1 KiB body limit and a 0.5 s request timeout."""
    limits = HostLimits(max_body_bytes=LIMIT, request_timeout_s=TIMEOUT)
    with running_host(tmp_path / "none.json", limits=limits) as host:
        yield host


@pytest.fixture
def default(tmp_path: Path) -> Iterator[FunctionsHost]:
    """A host with Azure's default limits, and a request timeout long enough to tell a hang."""
    with running_host(tmp_path / "none.json", limits=HostLimits(request_timeout_s=5)) as host:
        yield host


def exchange(
    host: FunctionsHost,
    *parts: bytes,
    pause: float = 0.0,
    close_write: bool = False,
    wait: float = 5.0,
) -> Answer:
    """Send ``parts`` (``pause`` seconds apart), then read until the host closes."""
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", host.port), timeout=wait) as sock:
        for index, part in enumerate(parts):
            if index and pause:
                time.sleep(pause)
            try:
                sock.sendall(part)
            except OSError:
                break  # the host answered and closed already
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        raw = b""
        try:
            while chunk := sock.recv(65536):
                raw += chunk
        except ConnectionResetError:
            pass
    elapsed = time.monotonic() - began
    if not raw:
        return Answer(0, {}, b"", elapsed, raw)
    head, _, body = raw.partition(b"\r\n\r\n")
    while head.startswith(b"HTTP/1.1 100"):  # an interim answer, then the real one
        head, _, body = body.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return Answer(int(status_line.split()[1]), headers, body, elapsed, raw)


def post(target: str, headers: str, body: bytes = b"") -> bytes:
    return f"POST {target} HTTP/1.1\r\nHost: t\r\n{headers}\r\n".encode() + body


def assert_refused(answer: Answer, status: int) -> None:
    """The host's own refusal: JSON ``{"error": ...}``, closed, no traceback."""
    assert answer.status == status, answer.raw[:300]
    assert answer.headers["connection"] == "close"
    assert answer.headers["content-type"] == "application/json"
    assert set(answer.json()) == {"error"}
    for leak in (b"Traceback", b'File "', b"Error:"):
        assert leak not in answer.raw


# -- Content-Length -------------------------------------------------------------------------


def test_limit_defaults_to_azures_100_mib_and_4_kb() -> None:
    assert HostLimits().max_body_bytes == MAX_REQUEST_BODY_BYTES == 100 * 1024 * 1024
    assert HostLimits().max_url_bytes == MAX_URL_BYTES == 4096


def test_huge_declared_length_is_413_at_once(default: FunctionsHost) -> None:
    answer = exchange(default, post(ECHO, "Content-Length: 99999999999\r\n", b"{}"))
    assert_refused(answer, 413)
    assert answer.elapsed < 1.0  # answered from the header, nothing waited for


def test_declared_length_just_over_the_limit_is_413(small: FunctionsHost) -> None:
    answer = exchange(small, post(ECHO, f"Content-Length: {LIMIT + 1}\r\n"))
    assert_refused(answer, 413)
    assert str(LIMIT) in str(answer.json()["error"])


def test_body_at_the_limit_is_served(small: FunctionsHost) -> None:
    body = b"x" * LIMIT
    answer = exchange(small, post(ECHO, f"Content-Length: {LIMIT}\r\n", body))
    assert answer.status == 201
    assert answer.json()["body"] == body.decode()


def test_client_gets_the_413_even_while_still_uploading(small: FunctionsHost) -> None:
    # requests writes the whole body before reading; lingering lets it read 413, not a reset.
    response = requests.post(f"{small.url}{ECHO}", data=b"x" * 4_000_000, timeout=10)
    assert response.status_code == 413
    assert "error" in response.json()


@pytest.mark.parametrize(
    "headers",
    [
        "Content-Length: abc\r\n",
        "Content-Length: -1\r\n",
        "Content-Length: +5\r\n",
        "Content-Length: 1e3\r\n",
        "Content-Length: 0x10\r\n",
        "Content-Length: \r\n",
        "Content-Length: 5\r\nContent-Length: 6\r\n",
        "Content-Length: 5, 6\r\n",
        "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
    ],
    ids=["text", "negative", "plus", "float", "hex", "empty", "two", "list", "with-chunked"],
)
def test_bad_content_length_is_400(small: FunctionsHost, headers: str) -> None:
    assert_refused(exchange(small, post(ECHO, headers, b"hello")), 400)


def test_repeated_identical_content_length_is_accepted(small: FunctionsHost) -> None:
    answer = exchange(small, post(ECHO, "Content-Length: 5\r\nContent-Length: 5\r\n", b"hello"))
    assert (answer.status, answer.json()["body"]) == (201, "hello")


def test_body_shorter_than_declared_is_400(small: FunctionsHost) -> None:
    answer = exchange(small, post(ECHO, "Content-Length: 10\r\n", b"abc"), close_write=True)
    assert_refused(answer, 400)


def test_thousands_of_digits_are_413_not_500(small: FunctionsHost) -> None:
    # int() refuses more than 4,300 digits; that must not become a 500.
    answer = exchange(small, post(ECHO, f"Content-Length: {'9' * 5000}\r\n"))
    assert_refused(answer, 413)


# -- chunked --------------------------------------------------------------------------------

CHUNKED = "Transfer-Encoding: chunked\r\n"


@pytest.mark.parametrize(
    "body",
    [
        b"5\r\nhello\r\n0\r\n\r\n",
        b"2\r\nhe\r\n3;ext=1\r\nllo\r\n0\r\nX-Trailer: yes\r\n\r\n",
        b"1\r\nh\r\n4\r\nello\r\n0\r\n\r\n",
    ],
    ids=["one-chunk", "extension-and-trailer", "two-chunks"],
)
def test_well_formed_chunked_body_reaches_the_function(small: FunctionsHost, body: bytes) -> None:
    answer = exchange(small, post(ECHO, CHUNKED, body))
    assert (answer.status, answer.json()["body"]) == (201, "hello")


@pytest.mark.parametrize(
    "body",
    [
        b"zz\r\nhello\r\n0\r\n\r\n",
        b"-5\r\nhello\r\n0\r\n\r\n",
        b"\r\nhello\r\n0\r\n\r\n",
        b"5\nhello\r\n0\r\n\r\n",
        b"5\r\nhelloXX0\r\n\r\n",
        b"5\r\nhello\n0\r\n\r\n",
        b"5\r\nhel",
        b"5\r\nhello\r\n",
        b"5\r\nhello\r\n0\r\n",
        b"fffffffffffffffff\r\n",
    ],
    ids=[
        "size-not-hex",
        "size-negative",
        "size-empty",
        "size-line-lf-only",
        "data-without-crlf",
        "data-then-lf-only",
        "truncated-data",
        "no-last-chunk",
        "no-final-crlf",
        "size-too-long",
    ],
)
def test_malformed_chunked_body_is_400(small: FunctionsHost, body: bytes) -> None:
    assert_refused(exchange(small, post(ECHO, CHUNKED, body), close_write=True), 400)


def test_chunked_body_over_the_limit_is_413(small: FunctionsHost) -> None:
    chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"  # exactly the limit, then one byte more
    answer = exchange(small, post(ECHO, CHUNKED, chunk + b"1\r\nx\r\n0\r\n\r\n"))
    assert_refused(answer, 413)


def test_unknown_transfer_coding_is_501(small: FunctionsHost) -> None:
    answer = exchange(small, post(ECHO, "Transfer-Encoding: gzip, chunked\r\n", b"0\r\n\r\n"))
    assert_refused(answer, 501)


# -- Expect: 100-continue -------------------------------------------------------------------


def test_expect_continue_is_refused_before_the_upload(small: FunctionsHost) -> None:
    answer = exchange(small, post(ECHO, "Content-Length: 5000\r\nExpect: 100-continue\r\n"))
    assert_refused(answer, 413)
    assert b"100 Continue" not in answer.raw


def test_expect_continue_gets_100_then_the_answer(small: FunctionsHost) -> None:
    head = post(ECHO, "Content-Length: 5\r\nExpect: 100-continue\r\n")
    answer = exchange(small, head, b"hello", pause=0.1)
    assert answer.raw.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert answer.raw.count(b"100 Continue") == 1
    assert (answer.status, answer.json()["body"]) == (201, "hello")


# -- URL length -----------------------------------------------------------------------------


def _hello(length: int) -> str:
    prefix = "/api/hello?name="
    return prefix + "x" * (length - len(prefix))


def test_url_of_4096_bytes_is_served(small: FunctionsHost) -> None:
    answer = exchange(small, f"GET {_hello(4096)} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    assert answer.status == 200


@pytest.mark.parametrize("length", [4097, 70_000])
def test_url_over_4_kb_is_414(small: FunctionsHost, length: int) -> None:
    answer = exchange(small, f"GET {_hello(length)} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    assert_refused(answer, 414)


def test_garbage_request_line_is_400_json(small: FunctionsHost) -> None:
    assert_refused(exchange(small, b"NOT HTTP AT ALL\r\n\r\n"), 400)


def test_header_line_too_long_is_431_json(small: FunctionsHost) -> None:
    answer = exchange(small, f"GET /api/hello HTTP/1.1\r\nX-Big: {'y' * 70_000}\r\n\r\n".encode())
    assert_refused(answer, 431)


# -- slow clients ---------------------------------------------------------------------------


def test_slowloris_headers_are_cut_off_with_408(small: FunctionsHost) -> None:
    # One header byte every 0.1 s: each recv is quick, only the request deadline stops it.
    drip = [b"GET /api/hello HTTP/1.1\r\n", *(b"X" for _ in range(40))]
    answer = exchange(small, *drip, pause=0.1)
    assert_refused(answer, 408)
    assert answer.elapsed < TIMEOUT + 1.0


def test_stalled_body_is_cut_off_with_408(small: FunctionsHost) -> None:
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", small.port), timeout=5) as sock:
        sock.sendall(post(ECHO, "Content-Length: 10\r\n", b"abc"))  # and then nothing
        raw = sock.recv(65536)
    assert raw.startswith(b"HTTP/1.1 408")
    assert b"Traceback" not in raw
    assert time.monotonic() - began < TIMEOUT + 1.0


def test_idle_connection_is_closed_without_an_answer(small: FunctionsHost) -> None:
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", small.port), timeout=5) as sock:
        assert sock.recv(65536) == b""
    assert time.monotonic() - began < TIMEOUT + 1.0


def test_host_still_serves_after_abuse(small: FunctionsHost) -> None:
    exchange(small, b"GET /api/hello HTTP/1.1\r\n")  # never finished
    exchange(small, post(ECHO, CHUNKED, b"zz\r\n"))
    assert requests.get(f"{small.url}/api/hello", timeout=5).text == "hello world"
