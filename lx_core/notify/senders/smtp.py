"""E-mail over SMTP with STARTTLS (or implicit TLS), one message per recipient digest.

The certificate is always verified (``LX_SMTP_CA_FILE`` adds a private CA, as the sandbox's).
A server that does not offer STARTTLS, or refuses our login, is a problem of the channel:
answered ``retry``, so the channel pauses and the mail waits rather than being dead-lettered.
A problem of one recipient is a problem of this message and never pauses the others' mail:
greylisted or "mailbox busy" (4xx) is ``deferred``; refused (5xx) or an address the server
cannot carry is ``rejected``, counted against the items for that recipient. Other SMTP 4xx
answers are temporary for the whole server (``retry``), other 5xx ones refuse this message
(``rejected``).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from lx_core import deadline
from lx_core.config import SmtpSettings
from lx_core.errors import clip
from lx_core.notify.senders.base import Outgoing, SendResult


def _context(settings: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=settings.ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def build_email(message: Outgoing, settings: SmtpSettings) -> EmailMessage:
    """The MIME message: plain text with an HTML alternative and a stable Message-ID."""
    if message.mail is None or message.recipient is None:
        raise ValueError("an e-mail needs a mail and a recipient")
    mail = EmailMessage()
    mail["From"] = settings.from_address
    mail["To"] = message.recipient
    mail["Subject"] = message.mail.subject
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = f"<{message.message_id}@{settings.message_id_domain}>"
    mail.set_content(message.mail.text)
    mail.add_alternative(message.mail.html, subtype="html")
    return mail


#: The shortest timeout a socket operation gets, however little of the tick is left.
_MIN_STEP_SECONDS = 5.0


class _NoStartTlsError(Exception):
    """The server does not offer STARTTLS (told apart from SMTPUTF8's SMTPNotSupportedError)."""


class SmtpSender:
    """One SMTP relay; a connection per message keeps a tick free of idle-connection faults."""

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings

    def _connect(self, timeout: float) -> smtplib.SMTP:
        s = self._settings
        if s.security == "tls":
            return smtplib.SMTP_SSL(s.host or "", s.port, timeout=timeout, context=_context(s))
        client = smtplib.SMTP(s.host or "", s.port, timeout=timeout)
        try:
            client.ehlo()
            try:
                client.starttls(context=_context(s))
            except smtplib.SMTPNotSupportedError:
                raise _NoStartTlsError from None
            client.ehlo()
        except BaseException:
            client.close()
            raise
        return client

    def _open(self, timeout: float) -> smtplib.SMTP | SendResult:
        """Connect, STARTTLS and log in; whatever fails here is the channel's problem, so it
        is always ``retry``: the mail waits and nothing is counted against it."""
        settings = self._settings
        client: smtplib.SMTP | None = None
        try:
            client = self._connect(timeout)
            if settings.username and settings.password is not None:
                client.login(settings.username, settings.password.get_secret_value())
            return client
        except _NoStartTlsError:
            detail, status = "the SMTP server does not offer STARTTLS", None
        except smtplib.SMTPNotSupportedError:
            detail, status = "the SMTP server offers no login (AUTH)", None
        except smtplib.SMTPAuthenticationError as exc:
            detail, status = "SMTP login refused", exc.smtp_code
        except smtplib.SMTPResponseException as exc:
            detail, status = "the SMTP server refused the session", exc.smtp_code
        except (smtplib.SMTPException, OSError, ValueError, UnicodeError) as exc:
            detail, status = f"no session ({type(exc).__name__})", None
        if client is not None:
            client.close()
        return SendResult("retry", status=status, detail=detail)

    def send(self, message: Outgoing) -> SendResult:
        settings = self._settings
        if not settings.host:
            return SendResult("retry", detail="LX_SMTP_HOST is not set")
        try:
            mail = build_email(message, settings)
        except ValueError as exc:
            return SendResult("rejected", detail=str(exc))
        # Each socket operation (connect, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA) gets the
        # timeout; a third of what the tick has left keeps a slow server from running the
        # tick far past its lease, and the floor keeps a slow final answer from being cut.
        timeout = min(settings.timeout_seconds, max(_MIN_STEP_SECONDS, deadline.remaining() / 3))
        opened = self._open(timeout)
        if isinstance(opened, SendResult):
            return opened
        try:
            return self._deliver(opened, mail, message.recipient or "")
        finally:
            try:
                opened.quit()
            except (smtplib.SMTPException, OSError):
                opened.close()

    @staticmethod
    def _deliver(client: smtplib.SMTP, mail: EmailMessage, recipient: str) -> SendResult:
        """MAIL, RCPT, DATA: what fails here is this message's problem, unless the server
        says it is temporary for everyone (a 4xx outside RCPT, no answer)."""
        try:
            client.send_message(mail, to_addrs=[recipient])
        except smtplib.SMTPNotSupportedError:  # SMTPUTF8 needed for this address, not offered
            return SendResult("rejected", detail="the SMTP server cannot carry this address")
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            later = bool(codes) and all(400 <= c < 500 for c in codes)
            return SendResult(
                "deferred" if later else "rejected",
                status=codes[0] if codes else None,
                detail="recipient refused for now" if later else "recipient refused",
            )
        except smtplib.SMTPResponseException as exc:
            raw = exc.smtp_error
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
            return SendResult(
                "retry" if 400 <= exc.smtp_code < 500 else "rejected",
                status=exc.smtp_code,
                detail=clip(text, 120) or "",
            )
        except (smtplib.SMTPException, OSError) as exc:
            return SendResult("retry", detail=f"no answer ({type(exc).__name__})")
        except (ValueError, UnicodeError) as exc:  # an address or header smtplib cannot encode
            return SendResult(
                "rejected", detail=f"cannot encode the message ({type(exc).__name__})"
            )
        return SendResult("accepted", status=250)

    def close(self) -> None:
        """A connection per message: nothing is held."""
