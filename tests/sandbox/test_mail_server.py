"""The local SMTP server: STARTTLS with real verification, refusal in the clear, faults."""

from __future__ import annotations

import smtplib
import ssl
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest

from lx_sandbox.mail import MailServer


@pytest.fixture(scope="module")
def mail_server() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


@pytest.fixture
def mail(mail_server: MailServer) -> MailServer:
    mail_server.clear()
    return mail_server


def _message(subject: str = "Integration run failed") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "lx-functions@example.com"
    message["To"] = "EA Team <ea-team@example.com>, ops@example.com"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content("Run r0001 failed with 3 errors.")
    message.add_alternative("<p>Run <b>r0001</b> failed with 3 errors.</p>", subtype="html")
    return message


def _tls(server: MailServer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.cert_file))


def _send(server: MailServer, message: EmailMessage, *, login: bool = False) -> None:
    with smtplib.SMTP(server.host, server.port, timeout=10) as client:
        client.starttls(context=_tls(server))
        if login:
            client.login("user", "any-password")
        client.send_message(message)


def test_a_multipart_mail_over_verified_starttls_is_recorded(mail: MailServer) -> None:
    message = _message()
    _send(mail, message)
    [got] = mail.wait(1, timeout=5)
    assert got.mail_from == "lx-functions@example.com"
    assert got.rcpt_tos == ["ea-team@example.com", "ops@example.com"]
    assert got.to == ["ea-team@example.com", "ops@example.com"]
    assert got.subject == "Integration run failed"
    assert got.message_id == message["Message-ID"]
    assert got.text is not None and got.text.strip() == "Run r0001 failed with 3 errors."
    assert got.html is not None and "<b>r0001</b>" in got.html
    assert got.tls is True and got.authenticated is False
    assert "Subject: Integration run failed" in got.data
    assert got.received_at.tzinfo is not None


def test_the_certificate_is_verified_for_real(mail: MailServer) -> None:
    """A client that does not trust the sandbox certificate fails the handshake."""
    with (
        smtplib.SMTP(mail.host, mail.port, timeout=10) as client,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        client.starttls(context=ssl.create_default_context())
    assert len(mail.messages) == 0


def test_mail_in_the_clear_is_refused_with_530_and_not_recorded(mail: MailServer) -> None:
    with (
        smtplib.SMTP(mail.host, mail.port, timeout=10) as client,
        pytest.raises(smtplib.SMTPSenderRefused) as refused,
    ):
        client.send_message(_message())
    assert refused.value.smtp_code == 530
    assert len(mail.messages) == 0


def test_auth_is_refused_before_tls_and_accepts_any_credentials_after(mail: MailServer) -> None:
    with smtplib.SMTP(mail.host, mail.port, timeout=10) as client:
        client.ehlo()
        assert not client.has_extn("auth"), "AUTH is not offered in the clear"
        code, _ = client.docmd("AUTH", "PLAIN AHVzZXIAcGFzcw==")
        assert code == 530
    _send(mail, _message("with login"), login=True)
    [got] = mail.wait(1, timeout=5)
    assert got.subject == "with login" and got.authenticated is True


def test_fail_next_answers_451_once_then_the_retry_succeeds(mail: MailServer) -> None:
    mail.fail_next(1)
    message = _message()
    del message["To"]
    message["To"] = "ea-team@example.com"
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        _send(mail, message)
    [(code, _)] = refused.value.recipients.values()
    assert code == 451
    assert len(mail.messages) == 0 and mail.pending_faults == 0
    _send(mail, message)
    assert [m.rcpt_tos for m in mail.wait(1, timeout=5)] == [["ea-team@example.com"]]


def test_fail_next_on_data(mail: MailServer) -> None:
    """A failure injected after RCPT lands on DATA; the next transaction goes through."""
    message = _message()
    with smtplib.SMTP(mail.host, mail.port, timeout=10) as client:
        client.starttls(context=_tls(mail))
        client.ehlo()
        assert client.mail("lx-functions@example.com")[0] == 250
        assert client.rcpt("ea-team@example.com")[0] == 250
        mail.fail_next(1, code=452, message="4.3.1 Insufficient system storage")
        code, reply = client.data(message.as_bytes())
        assert (code, reply) == (452, b"4.3.1 Insufficient system storage")
        assert len(mail.messages) == 0
        client.rset()
        client.sendmail("lx-functions@example.com", ["ea-team@example.com"], message.as_bytes())
    [got] = mail.wait(1, timeout=5)
    assert got.rcpt_tos == ["ea-team@example.com"]


def test_fail_next_validates() -> None:
    server = MailServer()
    with pytest.raises(ValueError, match="code"):
        server.fail_next(1, code=250)
    with pytest.raises(ValueError, match="count"):
        server.fail_next(-1)


def test_wait_blocks_until_mail_arrives_and_clear_forgets(mail: MailServer) -> None:
    with pytest.raises(TimeoutError):
        mail.wait(1, timeout=0.05)
    sender = threading.Thread(target=_send, args=(mail, _message("late")))
    sender.start()
    try:
        [got] = mail.wait(1, timeout=5)
    finally:
        sender.join(5)
    assert got.subject == "late"
    _send(mail, _message("second"))
    assert [m.subject for m in mail.wait(2, timeout=5)] == ["late", "second"]
    assert [m.subject for m in mail.messages] == ["late", "second"]
    mail.fail_next(3)
    mail.clear()
    assert len(mail.messages) == 0 and mail.pending_faults == 0


def test_port_zero_binds_a_free_port_and_the_cert_dir_is_removed() -> None:
    with MailServer() as first, MailServer() as second:
        assert first.port != second.port and first.port > 0
        cert = first.cert_file
        assert cert.is_file() and first.url == f"smtp://127.0.0.1:{first.port}"
    assert not cert.exists()


def test_a_given_cert_dir_is_used_and_kept(tmp_path: Path) -> None:
    directory = tmp_path / "certs"
    with MailServer(cert_dir=directory) as server:
        assert server.cert_file.parent == directory
        _send(server, _message("kept"))
        assert server.wait(1, timeout=5)[0].subject == "kept"
    assert (directory / server.cert_file.name).is_file()


def test_non_loopback_hosts_are_refused() -> None:
    with pytest.raises(ValueError, match="loopback"):
        MailServer(host="0.0.0.0").start()  # noqa: S104 - the point of the test
