"""The sender for a channel from its declaration (the relay takes any factory; tests pass
their own)."""

from __future__ import annotations

from lx_core.config import RelaySettings, SmtpSettings, cached
from lx_core.notify.rules import Channel, SlackChannel, TeamsChannel
from lx_core.notify.senders.base import Sender


class DefaultSenders:
    """Slack through slack_sdk, Teams through requests, e-mail through SMTP (``LX_SMTP_*``)."""

    def __init__(self, settings: RelaySettings) -> None:
        self._timeout = settings.send_timeout_seconds

    def __call__(self, name: str, channel: Channel) -> Sender:
        if isinstance(channel, SlackChannel):
            from lx_core.notify.senders.slack import SlackSender

            return SlackSender(channel.url, timeout=self._timeout)
        if isinstance(channel, TeamsChannel):
            from lx_core.notify.senders.teams import TeamsSender

            return TeamsSender(channel.url, timeout=self._timeout)
        from lx_core.notify.senders.smtp import SmtpSender

        return SmtpSender(cached(SmtpSettings))
