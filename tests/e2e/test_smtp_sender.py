"""The SMTP sender against the sandbox's real SMTP server (STARTTLS, aiosmtpd): what is a
problem of the channel (pause, keep the mail) and what is a problem of one recipient (count
it against that message only)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from lx_core.config import SmtpSettings
from lx_core.notify.render import Mail
from lx_core.notify.senders.base import Outgoing
from lx_core.notify.senders.smtp import SmtpSender
from lx_sandbox.mail import MailServer


@pytest.fixture(scope="module")
def server() -> Iterator[MailServer]:
    with MailServer() as mail:
        yield mail


@pytest.fixture
def mail(server: MailServer) -> MailServer:
    server.clear()
    return server


def _sender(mail: MailServer, **settings: str) -> SmtpSender:
    return SmtpSender(
        SmtpSettings(
            host=mail.host,
            port=mail.port,
            ca_file=str(mail.cert_file),
            timeout_seconds=5,
            **settings,  # type: ignore[arg-type]  # username/password, typed as str here
        )
    )


def _message(recipient: str) -> Outgoing:
    return Outgoing(
        "lx-0123", mail=Mail(subject="CRM archived", text="t", html="<p>t</p>"), recipient=recipient
    )


def test_a_digest_arrives_over_starttls_with_its_stable_message_id(mail: MailServer) -> None:
    result = _sender(mail).send(_message("ea@example.com"))
    assert result.accepted
    [got] = mail.wait(1, timeout=5)
    assert got.rcpt_tos == ["ea@example.com"] and got.message_id == "<lx-0123@lx-functions>"


def test_a_greylisted_recipient_refuses_that_message_and_does_not_pause_the_channel(
    mail: MailServer,
) -> None:
    mail.fail_next(1, code=451, message="4.7.1 Greylisted, try again later")
    result = _sender(mail).send(_message("ea@example.com"))
    assert (result.outcome, result.status, result.detail) == (
        "deferred",
        451,
        "recipient refused for now",
    )
    assert _sender(mail).send(_message("ops@example.com")).accepted  # the next one goes


def test_an_address_the_server_cannot_carry_is_that_messages_problem() -> None:
    """A server without SMTPUTF8 cannot take a non-ASCII mailbox; an ASCII one still goes."""
    with MailServer(smtputf8=False) as ascii_only:
        result = _sender(ascii_only).send(_message("jörg@example.com"))
        assert result.outcome == "rejected" and "cannot carry" in result.detail
        assert len(ascii_only.messages) == 0
        assert _sender(ascii_only).send(_message("joerg@example.com")).accepted


def test_a_server_without_starttls_pauses_the_channel() -> None:
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, *_: object) -> str:  # noqa: N802 - aiosmtpd's hook name
            return "250 OK"

    with socket.socket() as probe:  # a free port (aiosmtpd's own controller cannot take 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    plain = Controller(Sink(), hostname="127.0.0.1", port=port, server_hostname="localhost")
    plain.start()
    try:
        sender = SmtpSender(SmtpSettings(host="127.0.0.1", port=port, timeout_seconds=5))
        result = sender.send(_message("ea@example.com"))
        assert (result.outcome, result.detail) == (
            "retry",
            "the SMTP server does not offer STARTTLS",
        )
    finally:
        plain.stop()


def test_a_login_problem_is_the_channels_and_pauses_it_never_the_mails() -> None:
    """No AUTH offered while a username is set, or a password smtplib cannot encode: each is
    a setting to fix, so the mail waits (``retry``) instead of being counted and dead-lettered."""
    with MailServer(auth=False) as no_login:
        result = _sender(no_login, username="relay", password="secret").send(
            _message("ea@example.com")
        )
        # aiosmtpd then advertises AUTH with no mechanism: smtplib finds none it can use.
        assert result.outcome == "retry" and result.detail == "no session (SMTPException)"
    with MailServer() as server:
        # smtplib cannot encode this password for AUTH PLAIN.
        result = _sender(server, username="relay", password="pässwörd").send(
            _message("ea@example.com")
        )
        assert result.outcome == "retry" and result.detail.startswith("no session (")
        assert "pässwörd" not in result.detail and len(server.messages) == 0
