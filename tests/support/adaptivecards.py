"""Check Microsoft Teams Adaptive Cards with the official ``adaptivecards`` npm library.

A card passes when the library parses it and validates its properties without a single event:
every parse event and every validation event is an error (``tests/tools/adaptivecards/validate.js``
says which ones the library does and does not report). ``make adaptivecards`` installs the
pinned library under ``.tools/adaptivecards-validator/``; without Node.js or that install these
functions raise :class:`AdaptiveCardsNotInstalledError` (tests fail, never skip).

One ``node`` process checks a whole batch: give :func:`validate_cards` every card of a test at
once rather than calling :func:`validate_card` in a loop.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TOOL_DIR = ROOT / "tests" / "tools" / "adaptivecards"
SCRIPT = TOOL_DIR / "validate.js"
NODE_MODULES = ROOT / ".tools" / "adaptivecards-validator" / "node_modules"
INSTALL_HINT = "run `make adaptivecards` (needs Node.js 20+ and npm)"
TIMEOUT_SECONDS = 60.0


class AdaptiveCardsValidatorError(RuntimeError):
    """The validator could not check the cards (not a card error: those are returned)."""


class AdaptiveCardsNotInstalledError(AdaptiveCardsValidatorError):
    """Node.js or the pinned ``adaptivecards`` package is missing; the message says what to run."""


def pinned_version() -> str:
    """The ``adaptivecards`` version pinned in ``tests/tools/adaptivecards/package.json``."""
    manifest = json.loads((TOOL_DIR / "package.json").read_text(encoding="utf-8"))
    return str(manifest["dependencies"]["adaptivecards"])


def check_installed() -> str:
    """The path of ``node`` if it and the pinned library are installed, else raise."""
    node = shutil.which("node")
    if node is None:
        raise AdaptiveCardsNotInstalledError(
            f"the Adaptive Cards validator needs Node.js and `node` is not on PATH: {INSTALL_HINT}"
        )
    wanted = pinned_version()
    installed_manifest = NODE_MODULES / "adaptivecards" / "package.json"
    if not installed_manifest.is_file():
        shown = (
            installed_manifest.relative_to(ROOT)
            if installed_manifest.is_relative_to(ROOT)
            else installed_manifest
        )
        raise AdaptiveCardsNotInstalledError(
            f"adaptivecards {wanted} is not installed ({shown} is missing): {INSTALL_HINT}"
        )
    installed = json.loads(installed_manifest.read_text(encoding="utf-8")).get("version")
    if installed != wanted:
        raise AdaptiveCardsNotInstalledError(
            f"adaptivecards {installed} is installed but {wanted} is pinned: {INSTALL_HINT}"
        )
    return node


def _format(error: Mapping[str, Any]) -> str:
    return f"{error['phase']}: {error['event']}: {error['message']}"


def validate_cards(
    cards: Sequence[Mapping[str, Any]], *, max_version: str | None = None
) -> list[list[str]]:
    """One list of errors per card, in order (an empty list: the card is valid), in one ``node``.

    Each error reads ``"<phase>: <ValidationEvent>: <message>"``, the phase ``parse`` or
    ``validate`` (``input`` for a card that is not a JSON object). ``max_version`` is the newest
    card version the host renders (e.g. ``"1.5"``): a card declaring a newer ``version``, or using
    an element or action type newer than it, is then an error. By default it is the library's
    newest (1.6).
    """
    node = check_installed()
    if not cards:
        return []
    payload: dict[str, Any] = {"cards": list(cards)}
    if max_version is not None:
        payload["maxVersion"] = max_version
    try:
        proc = subprocess.run(  # noqa: S603 - our own node script, fixed arguments
            [node, str(SCRIPT)],
            input=json.dumps(payload, allow_nan=False),
            capture_output=True,
            text=True,
            encoding="utf-8",
            env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
            cwd=ROOT,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AdaptiveCardsValidatorError(
            f"{SCRIPT.relative_to(ROOT)} did not answer within {TIMEOUT_SECONDS:.0f} s"
        ) from exc
    if proc.returncode != 0:
        raise AdaptiveCardsValidatorError(
            f"{SCRIPT.relative_to(ROOT)} exited with {proc.returncode}: {proc.stderr.strip()} "
            f"({INSTALL_HINT} if the library is missing)"
        )
    answer = json.loads(proc.stdout)
    wanted = pinned_version()
    if answer.get("adaptivecards") != wanted:
        raise AdaptiveCardsNotInstalledError(
            f"node loaded adaptivecards {answer.get('adaptivecards')}, not the pinned {wanted}: "
            f"{INSTALL_HINT}"
        )
    results: list[dict[str, Any]] = answer["results"]
    if len(results) != len(cards):
        raise AdaptiveCardsValidatorError(
            f"{len(cards)} cards sent, {len(results)} results received: {proc.stdout[:500]}"
        )
    return [[_format(error) for error in result["errors"]] for result in results]


def validate_card(card: Mapping[str, Any], *, max_version: str | None = None) -> list[str]:
    """The errors of one card (an empty list: it is valid); see :func:`validate_cards`."""
    return validate_cards([card], max_version=max_version)[0]
