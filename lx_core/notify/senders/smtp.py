"""E-mail over SMTP with STARTTLS (or implicit TLS), one message per recipient digest.

The certificate is always verified (``LX_SMTP_CA_FILE`` adds a private CA, as the sandbox's).
A server that does not offer STARTTLS is a configuration problem, answered ``retry`` so the mail
waits rather than being dead-lettered, and logged. SMTP 4xx answers are temporary (``retry``),
5xx answers refuse this message (``rejected``).
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
            client.starttls(context=_context(s))
            client.ehlo()
        except BaseException:
            client.close()
            raise
        return client

    def send(self, message: Outgoing) -> SendResult:
        settings = self._settings
        if not settings.host:
            return SendResult("retry", detail="LX_SMTP_HOST is not set")
        try:
            mail = build_email(message, settings)
        except ValueError as exc:
            return SendResult("rejected", detail=str(exc))
        timeout = max(0.5, min(settings.timeout_seconds, deadline.remaining()))
        try:
            client = self._connect(timeout)
            try:
                if settings.username and settings.password is not None:
                    client.login(settings.username, settings.password.get_secret_value())
                client.send_message(mail, to_addrs=[message.recipient or ""])
            finally:
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    client.close()
        except smtplib.SMTPNotSupportedError:
            return SendResult("retry", detail="the SMTP server does not offer STARTTLS")
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            temporary = all(400 <= c < 500 for c in codes)
            return SendResult(
                "retry" if temporary else "rejected",
                status=codes[0] if codes else None,
                detail="recipient refused",
            )
        except smtplib.SMTPAuthenticationError as exc:
            return SendResult("retry", status=exc.smtp_code, detail="SMTP login refused")
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
        return SendResult("accepted", status=250)

    def close(self) -> None:
        """A connection per message: nothing is held."""
