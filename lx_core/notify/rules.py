"""``infra/leanix/notifications.json``: where notices come from, which channels exist, and which
notice goes where. Validated in full before the relay reads a single event: a broken file is one
``DocumentError`` naming the file, the JSON path and the rule, and nothing is half-loaded.

``${NAME}`` placeholders (webhook URLs, which are secrets) are filled from the environment, in
Azure from Key Vault references. A placeholder without a value is an error naming the field and
the variable, never a channel that silently posts nowhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    model_validator,
)

from lx_core.config import KEY_VAULT_PREFIX
from lx_core.errors import DocumentError
from lx_core.integration.documents import TAG_PREFIX, json_path, read_json, validate
from lx_core.notify.notices import Severity

DEFAULT_FILE = Path("infra/leanix/notifications.json")
NoticeKind = Literal[
    "integration_run",
    "fact_sheet_archived",
    "subscription_removed",
    "quality_seal_broken",
    "dead_letter",
    "quality_digest",
]
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
ChannelName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
#: (window seconds, most requests in it)
RateWindow = tuple[Annotated[float, Field(gt=0, le=86_400)], Annotated[int, Field(ge=1)]]

#: Slack: about one message per second per webhook ([V] §8.1).
SLACK_RATE: tuple[RateWindow, ...] = ((1.0, 1),)
#: Teams: the documented connector limits; Workflows' own are [U] (assumptions.TEAMS_RATE...).
TEAMS_RATE: tuple[RateWindow, ...] = ((1.0, 4), (30.0, 60), (3600.0, 100))
#: E-mail: no documented limit; a gentle default most relays accept.
EMAIL_RATE: tuple[RateWindow, ...] = ((1.0, 5),)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _webhook_url(url: SecretStr) -> SecretStr:
    """An https URL with a host (http only on loopback, for the sandbox). Checked when the
    file loads, so a bad URL is a named field, not a send that fails every tick. The error
    never repeats the URL: it is a secret."""
    from urllib.parse import urlsplit

    raw = url.get_secret_value()
    try:
        parts = urlsplit(raw)
        host = parts.hostname
    except ValueError:
        raise ValueError("the webhook URL does not parse") from None
    if raw != raw.strip() or any(c in raw for c in "\r\n\t "):
        raise ValueError("the webhook URL holds whitespace")
    if not host:
        raise ValueError("the webhook URL has no host")
    if parts.scheme != "https" and not (parts.scheme == "http" and host in _LOOPBACK):
        raise ValueError("the webhook URL must use https")
    return url


WebhookUrl = Annotated[SecretStr, AfterValidator(_webhook_url)]


class SlackChannel(_Strict):
    type: Literal["slack"]
    url: WebhookUrl
    rate: tuple[RateWindow, ...] = SLACK_RATE
    #: Items per message: Block Kit allows 50 blocks, one goes to the heading.
    max_items: int = Field(49, alias="maxItems", ge=1, le=49)


class TeamsChannel(_Strict):
    type: Literal["teams"]
    url: WebhookUrl
    rate: tuple[RateWindow, ...] = TEAMS_RATE
    max_items: int = Field(40, alias="maxItems", ge=1, le=200)
    #: Payloads over about 28 KB fail with 413 ([V] §8.2); the card is cut below this.
    max_bytes: int = Field(27_000, alias="maxBytes", ge=2_000, le=28_000)


class EmailChannel(_Strict):
    type: Literal["email"]
    to: tuple[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")], ...] = ()
    #: Also send to the notice's own recipients (an archived fact sheet's subscribers).
    notice_recipients: bool = Field(False, alias="noticeRecipients")
    rate: tuple[RateWindow, ...] = EMAIL_RATE
    max_items: int = Field(200, alias="maxItems", ge=1, le=1000)
    subject_prefix: str = Field("[LeanIX]", alias="subjectPrefix", max_length=40)

    @model_validator(mode="after")
    def _has_recipients(self) -> Self:
        if not self.to and not self.notice_recipients:
            raise ValueError("an e-mail channel needs 'to' or 'noticeRecipients': true")
        return self


def _channel_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return TAG_PREFIX + (kind if kind in ("slack", "teams", "email") else "unknown")


class _UnknownChannel(_Strict):
    """Only ever fails: it turns an unknown ``type`` into "must be 'slack', ..." at its path."""

    type: Literal["slack", "teams", "email"]


Channel = SlackChannel | TeamsChannel | EmailChannel
if TYPE_CHECKING:
    _ChannelField = Channel
else:
    _ChannelField = Annotated[
        Annotated[SlackChannel, Tag(TAG_PREFIX + "slack")]
        | Annotated[TeamsChannel, Tag(TAG_PREFIX + "teams")]
        | Annotated[EmailChannel, Tag(TAG_PREFIX + "email")]
        | Annotated[_UnknownChannel, Tag(TAG_PREFIX + "unknown")],
        Discriminator(_channel_tag),
    ]


class Route(_Strict):
    """Notices matching every given condition go to ``channels`` (an absent condition matches
    everything)."""

    kinds: tuple[NoticeKind, ...] | None = None
    severities: tuple[Severity, ...] | None = None
    connectors: tuple[str, ...] | None = None
    include_tests: bool = Field(False, alias="includeTests")
    channels: tuple[ChannelName, ...] = Field(min_length=1)


class PullSource(_Strict):
    """A PULL webhook subscription, named by its identifier (see webhooks.json)."""

    subscription: str = Field(min_length=1, max_length=255)


class Sources(_Strict):
    pull: tuple[PullSource, ...] = ()
    #: Integration run outcomes from the state store's outcome log.
    outcomes: bool = True
    #: Notices recorded by the webhook handlers (archive, subscription removed).
    notices: bool = True


class DeadLetter(_Strict):
    #: Refusals (a channel saying "never this message") before an item is set aside.
    max_attempts: int = Field(5, alias="maxAttempts", ge=1, le=100)
    #: How long an item may be deferred ("not now" for one recipient) before it is set aside.
    max_deferred_hours: float = Field(24.0, alias="maxDeferredHours", gt=0, le=720)
    #: Where a dead-lettered item is reported, once.
    fallback_channel: ChannelName | None = Field(None, alias="fallbackChannel")


class NotificationRules(_Strict):
    schema_: str | None = Field(None, alias="$schema")
    comment: str | None = Field(None, alias="$comment")
    sources: Sources = Sources()
    channels: dict[ChannelName, _ChannelField] = Field(min_length=1)
    routes: tuple[Route, ...] = Field(min_length=1)
    dead_letter: DeadLetter = Field(DeadLetter(), alias="deadLetter")

    @model_validator(mode="after")
    def _channels_exist(self) -> Self:
        for index, route in enumerate(self.routes):
            for name in route.channels:
                if name not in self.channels:
                    raise ValueError(
                        f"routes[{index}] names channel {name!r}, which is not defined"
                    )
        fallback = self.dead_letter.fallback_channel
        if fallback is not None and fallback not in self.channels:
            raise ValueError(f"deadLetter.fallbackChannel {fallback!r} is not a defined channel")
        return self


def _fill(node: Any, environ: Mapping[str, str], path: list[str | int], source: str) -> Any:
    """``node`` with every ``${NAME}`` replaced; DocumentError at the first one unset."""
    if isinstance(node, str):

        def sub(match: re.Match[str]) -> str:
            value = environ.get(match.group(1))
            if not value:
                raise DocumentError(
                    f"placeholder ${{{match.group(1)}}} has no value in the environment",
                    file=source,
                    path=json_path(path),
                    rule="unset-placeholder",
                )
            if value.lstrip().startswith(KEY_VAULT_PREFIX):
                raise DocumentError(
                    f"placeholder ${{{match.group(1)}}} is an unresolved Key Vault reference; "
                    "set the secret, or check the app's identity and vault access",
                    file=source,
                    path=json_path(path),
                    rule="unresolved-secret",
                )
            return value

        return _PLACEHOLDER.sub(sub, node)
    if isinstance(node, list):
        return [_fill(v, environ, [*path, i], source) for i, v in enumerate(node)]
    if isinstance(node, dict):
        # "$comment" and "$schema" are prose and links, never filled.
        return {
            k: v if k.startswith("$") else _fill(v, environ, [*path, k], source)
            for k, v in node.items()
        }
    return node


def load_rules(path: Path | str, environ: Mapping[str, str]) -> NotificationRules:
    """The validated rules of ``path``, placeholders filled from ``environ``."""
    source = str(path)
    doc = _fill(read_json(path), environ, [], source)
    return validate(doc, NotificationRules, source=source)
