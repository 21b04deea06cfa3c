"""Notices as messages: one neutral rendering per notice, then Slack Block Kit, a Teams
Adaptive Card and an e-mail (text and HTML) built from it. Pure functions, no I/O.

Every field may be missing: it renders as "n/a", never as a crash. Long values are clipped, so
one notice can never outgrow a channel's size limit on its own.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from lx_core import assumptions
from lx_core.errors import clip
from lx_core.notify.notices import (
    DeadLetterNotice,
    FactSheetNotice,
    IntegrationRunNotice,
    Notice,
    QualityDigestNotice,
    Severity,
)

NA = "n/a"
_MAX_VALUE = 300
_EMOJI: dict[Severity, str] = {
    "success": "✅",
    "warning": "⚠️",
    "failure": "❌",
    "info": "\N{INFORMATION SOURCE}\ufe0f",
}
_FACT_SHEET_HEADLINES = {
    "fact_sheet_archived": ("🗄️", "Fact sheet archived"),
    "subscription_removed": ("👤", "Subscription removed"),
    "quality_seal_broken": ("🔓", "Quality seal broken"),
}


@dataclass(frozen=True)
class Rendered:
    """A notice in channel-neutral form: a headline, labelled facts, at most one link."""

    headline: str
    facts: tuple[tuple[str, str], ...] = ()
    link: tuple[str, str] | None = None
    severity: Severity = "info"


def _v(value: object) -> str:
    if value is None or value == "":
        return NA
    return clip(str(value), _MAX_VALUE) or NA


def _url(base: str | None, *parts: str | None) -> str | None:
    if not base or any(not p for p in parts):
        return None
    return base.rstrip("/") + "/" + "/".join(str(p) for p in parts)


def _run(notice: IntegrationRunNotice) -> Rendered:
    word = {"success": "finished", "warning": "finished with problems"}.get(
        notice.severity, (notice.status or "ended").lower()
    )
    name = notice.connector or notice.connector_id
    facts = [
        ("Workspace", _v(notice.workspace_url)),
        ("Connector", _v(notice.connector_id or notice.connector)),
        ("Scope", _v(notice.scope)),
        ("Direction", _v(notice.direction)),
        ("Status", _v(notice.status)),
        ("Errors", _v(notice.error_count)),
        ("Warnings", _v(notice.warnings_count)),
    ]
    if notice.processed is not None:
        facts.append(("Processed", _v(notice.processed)))
    if notice.reasons:
        facts.append(("Why", _v("; ".join(notice.reasons))))
    link = _url(notice.workspace_url, "admin", "synclog", notice.synchronization_id)
    return Rendered(
        headline=f"{_EMOJI[notice.severity]} Integration run {word}: {_v(name)}",
        facts=tuple(facts),
        link=("Sync log", link) if link else None,
        severity=notice.severity,
    )


def _fact_sheet(notice: FactSheetNotice) -> Rendered:
    emoji, what = _FACT_SHEET_HEADLINES[notice.kind]
    actor_label = {"subscription_removed": "User"}.get(notice.kind, "By")
    facts = [("Type", _v(notice.fact_sheet_type)), (actor_label, _v(notice.actor))]
    if notice.kind == "subscription_removed":
        facts.append(("Role", _v(notice.role)))
    facts.append(("When", _v(notice.occurred_at)))
    link = _url(
        notice.workspace_url,
        assumptions.FACT_SHEET_URL_SEGMENT,
        notice.fact_sheet_type,
        notice.fact_sheet_id,
    )
    return Rendered(
        headline=f"{emoji} {what}: {_v(notice.fact_sheet_name)}",
        facts=tuple(facts),
        link=("Open fact sheet", link) if link else None,
        severity=notice.severity,
    )


def _dead(notice: DeadLetterNotice) -> Rendered:
    return Rendered(
        headline=f"🪦 A notification could not be delivered to {_v(notice.channel)}",
        facts=(
            ("Item", _v(notice.item_id)),
            ("Kind", _v(notice.item_kind)),
            ("Attempts", _v(notice.attempts)),
            ("Reason", _v(notice.reason)),
            ("Replay", _v(f"lx relay replay {notice.channel}/{notice.item_id}")),
        ),
        severity="failure",
    )


def _digest(notice: QualityDigestNotice) -> Rendered:
    facts = []
    for item in notice.items:
        link = _url(
            notice.workspace_url,
            assumptions.FACT_SHEET_URL_SEGMENT,
            item.fact_sheet_type,
            item.fact_sheet_id,
        )
        gaps = "; ".join(item.gaps) or NA
        facts.append((_v(item.fact_sheet_name or item.fact_sheet_id), _v(f"{gaps} {link or ''}")))
    if notice.total > len(notice.items):
        facts.append(("And", f"{notice.total - len(notice.items)} more fact sheets"))
    plural = "" if notice.total == 1 else "s"
    return Rendered(
        headline=f"🧹 Data quality, week {notice.week}: {notice.total} fact sheet{plural} to fix",
        facts=tuple(facts),
        link=("Open the workspace", notice.workspace_url) if notice.workspace_url else None,
        severity="info",
    )


def render(notice: Notice) -> Rendered:
    """The neutral rendering of one notice."""
    if isinstance(notice, IntegrationRunNotice):
        return _run(notice)
    if isinstance(notice, FactSheetNotice):
        return _fact_sheet(notice)
    if isinstance(notice, QualityDigestNotice):
        return _digest(notice)
    return _dead(notice)


def summary(items: Sequence[Rendered]) -> str:
    """One line for a whole message: the headline of a single item, else a count."""
    if len(items) == 1:
        return items[0].headline
    failures = sum(1 for i in items if i.severity == "failure")
    extra = f", {failures} failed" if failures else ""
    return f"{len(items)} LeanIX notifications{extra}"


# --- Slack Block Kit --------------------------------------------------------------------------

_SLACK_SECTION_CHARS = 3000  # a section's text limit (Block Kit)
_SLACK_HEADER_CHARS = 150  # a header's plain_text limit (Block Kit)


def _mrkdwn(text: str) -> str:
    """Slack's three control characters escaped, as its formatting guide asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(items: Sequence[Rendered]) -> dict[str, Any]:
    """One Slack message: a heading (for several items), then a section per item, so
    ``len(items) + 1`` blocks at most."""
    blocks: list[dict[str, Any]] = []
    if len(items) > 1:
        blocks.append(
            {
                "type": "header",
                "text": {"type": "plain_text", "text": clip(summary(items), _SLACK_HEADER_CHARS)},
            }
        )
    for item in items:
        lines = [f"*{_mrkdwn(item.headline)}*"]
        lines.append(" · ".join(f"{_mrkdwn(k)}: {_mrkdwn(v)}" for k, v in item.facts))
        if item.link:
            lines.append(f"<{item.link[1]}|{_mrkdwn(item.link[0])}>")
        text = clip("\n".join(lines), _SLACK_SECTION_CHARS) or NA
        # clip() folds whitespace; keep the line breaks that separate headline and facts.
        if len("\n".join(lines)) <= _SLACK_SECTION_CHARS:
            text = "\n".join(lines)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    return {"text": summary(items), "blocks": blocks}


# --- Teams Adaptive Card ----------------------------------------------------------------------

CARD_VERSION = "1.4"


_CARD_LINK = re.compile(r"([\[\]])")


def _card_text(text: str) -> str:
    """Card text is markdown: a fact sheet named ``[Pay here](https://…)`` must not become a
    link, so its brackets are escaped (an item's real link is its own action). Other markdown
    only styles text, and stays."""
    return _CARD_LINK.sub(r"\\\1", text)


def _card_item(item: Rendered) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": _card_text(item.headline), "weight": "Bolder", "wrap": True}
    ]
    if item.facts:
        parts.append(
            {
                "type": "FactSet",
                "facts": [{"title": _card_text(k), "value": _card_text(v)} for k, v in item.facts],
            }
        )
    if item.link:
        parts.append(
            {
                "type": "ActionSet",
                "actions": [{"type": "Action.OpenUrl", "title": item.link[0], "url": item.link[1]}],
            }
        )
    return {"type": "Container", "separator": True, "items": parts}


def teams_message(items: Sequence[Rendered], *, more: int = 0) -> dict[str, Any]:
    """The Workflows envelope ([V] §8.2) around one Adaptive Card holding every item."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": _card_text(summary(items)),
            "size": "Medium",
            "weight": "Bolder",
        }
    ]
    body.extend(_card_item(item) for item in items)
    if more:
        body.append({"type": "TextBlock", "text": f"…and {more} more", "isSubtle": True})
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": CARD_VERSION,
                    "body": body,
                },
            }
        ],
    }


def payload_json(payload: dict[str, Any]) -> bytes:
    """``payload`` as sent: compact UTF-8 JSON (what the size limits are measured on)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def payload_bytes(payload: dict[str, Any]) -> int:
    """Size of ``payload`` as sent."""
    return len(payload_json(payload))


def shrink(item: Rendered, max_bytes: int) -> Rendered:
    """``item`` cut until its card fits ``max_bytes``: facts go first, then the headline is
    clipped. Cut the card, never fail."""
    current = item
    while payload_bytes(teams_message([current])) > max_bytes and current.facts:
        current = Rendered(current.headline, current.facts[:-1], current.link, current.severity)
    if payload_bytes(teams_message([current])) > max_bytes:
        current = Rendered(clip(current.headline, 200) or NA, (), None, current.severity)
    return current


# --- e-mail -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    html: str


def email_message(items: Sequence[Rendered], *, subject_prefix: str = "[LeanIX]") -> Mail:
    """A digest: the subject summarises, the body lists every item (plain text and HTML)."""
    text_parts: list[str] = []
    html_parts: list[str] = []
    for item in items:
        text_parts.append(item.headline)
        text_parts.extend(f"  {k}: {v}" for k, v in item.facts)
        if item.link:
            text_parts.append(f"  {item.link[0]}: {item.link[1]}")
        text_parts.append("")
        rows = "".join(
            f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in item.facts
        )
        link = (
            f'<p><a href="{html.escape(item.link[1], quote=True)}">'
            f"{html.escape(item.link[0])}</a></p>"
            if item.link
            else ""
        )
        html_parts.append(f"<h3>{html.escape(item.headline)}</h3><table>{rows}</table>{link}")
    subject = f"{subject_prefix} {summary(items)}".strip()
    page = f"<html><body>{''.join(html_parts)}</body></html>"
    return Mail(subject=clip(subject, 200) or subject_prefix, text="\n".join(text_parts), html=page)


# --- packing ----------------------------------------------------------------------------------


def pack_by_count(count: int, max_items: int) -> Iterator[list[int]]:
    """Positions ``0..count-1`` in groups of at most ``max_items``."""
    for start in range(0, count, max_items):
        yield list(range(start, min(count, start + max_items)))


#: Room left in a Teams payload for the heading, whose text depends on the group.
_HEADING_ROOM = 200


def pack_teams(
    items: Sequence[Rendered], *, max_items: int, max_bytes: int
) -> Iterator[tuple[list[int], dict[str, Any]]]:
    """Groups of items whose card fits ``max_bytes``, each with its envelope. Greedy, sizing
    each item once; an item too big on its own is shrunk, never dropped."""
    frame = payload_bytes(teams_message([])) + _HEADING_ROOM
    group: list[int] = []
    shown: list[Rendered] = []
    size = frame
    for index, item in enumerate(items):
        item_bytes = payload_bytes(_card_item(item)) + 1
        if group and (len(group) >= max_items or size + item_bytes > max_bytes):
            yield group, teams_message(shown)
            group, shown, size = [], [], frame
        if not group and size + item_bytes > max_bytes:
            item = shrink(item, max_bytes - _HEADING_ROOM)
            item_bytes = payload_bytes(_card_item(item)) + 1
        group.append(index)
        shown.append(item)
        size += item_bytes
    if group:
        yield group, teams_message(shown)
