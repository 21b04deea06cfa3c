"""Issue 11, "Bad input": every kind of configuration file, broken in every form, is refused
naming its file, the JSON path and the rule, never a secret, and nothing is half-loaded.

Each case copies the shipped ``infra/leanix`` (and the example connectors and processors, into
the deployed folders) to a temporary folder, breaks one thing, and loads it the way the app and
the CLI do. Starting from the real files means a case fails if a loader stops checking a field
those files really have, not only if a hand-made fixture drifts.

"Nothing is half-loaded" means two things, by design (README, "Integration API runs"):
webhooks, notifications, quality and scoring are all or nothing: one broken entry or file and
the loader raises, returning no partial list. Connectors (and their processor files) are refused
per file: a deployed app keeps every other connector's timer, so the registry holds the good
connectors, each complete with its processor file, never the broken one, and one error per
broken file, naming that file and not the good one.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from lx_cli.main import app
from lx_core.errors import ConfigurationError, DocumentError
from lx_core.integration.connectors import Registry, load_registry
from lx_core.integration.sources import HttpsJsonSource, read_source
from lx_core.jobs.webhook_subscriptions import check_coverage, load_desired
from lx_core.notify.rules import load_rules
from lx_core.quality.model import load_quality
from lx_core.surveys.model import load_models

ROOT = Path(__file__).resolve().parents[2]
LEANIX = ROOT / "infra" / "leanix"
EXAMPLES = LEANIX / "examples"

#: Set as the value of placeholders that DO have one; no message may ever contain it.
CANARY = "canary-4d1f-never-in-a-message"
WEBHOOK_ENV = {
    "LX_FUNCTIONS_BASE_URL": "https://fn.example.net",
    "LX_FUNCTION_KEY": CANARY,
    "LX_WEBHOOK_AUTHORIZATION": f"Bearer {CANARY}",
}
NOTIFY_ENV = {
    "LX_NOTIFY_SLACK_URL": f"https://hooks.slack.com/services/T/B/{CANARY}",
    "LX_NOTIFY_TEAMS_URL": f"https://example.api.powerplatform.com/flow?sig={CANARY}",
    "LX_NOTIFY_EMAIL_TO": "ea@example.com",
}
#: The connector example's app settings, in the process environment too: a loader that read
#: ``os.environ`` behind our back would leak them into what it returns or raises.
SOURCE_ENV = {
    "LX_SOURCE_APPLICATIONS_URL": f"https://cmdb.example.com/{CANARY}/items",
    "LX_SOURCE_APPLICATIONS_TOKEN": CANARY,
}

Kind = Literal["webhooks", "notifications", "quality", "scoring", "connectors", "processors"]
KINDS: tuple[Kind, ...] = (
    "webhooks",
    "notifications",
    "quality",
    "scoring",
    "connectors",
    "processors",
)
#: The file of each kind that the cases break (relative to the copied ``infra/leanix``).
FILES: dict[Kind, str] = {
    "webhooks": "webhooks.json",
    "notifications": "notifications.json",
    "quality": "quality.json",
    "scoring": "scoring/cloud-readiness.json",
    "connectors": "connectors/applications-import.json",
    "processors": "processors/applications-import.json",
}
Part = str | int


@dataclass
class World:
    """A copy of ``infra/leanix`` and the environment its placeholders are filled from."""

    root: Path
    env: dict[str, str] = field(default_factory=lambda: {**WEBHOOK_ENV, **NOTIFY_ENV})

    def edit(self, rel: str, *changes: tuple[tuple[Part, ...], Any], save_as: str = "") -> None:
        """Set each (path, value) in the JSON of ``rel``; write it back, or to ``save_as``."""
        doc = json.loads((self.root / rel).read_text(encoding="utf-8"))
        for parts, value in changes:
            node = doc
            for part in parts[:-1]:
                node = node[part]
            node[parts[-1]] = value
        (self.root / (save_as or rel)).write_text(json.dumps(doc, indent=2), encoding="utf-8")

    def truncate(self, rel: str) -> None:
        """Cut the file in the middle, as an editor crash or a bad merge would."""
        path = self.root / rel
        text = path.read_text(encoding="utf-8")
        path.write_text(text[: len(text) // 2], encoding="utf-8")


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    root = tmp_path / "leanix"
    shutil.copytree(LEANIX, root, ignore=shutil.ignore_patterns("examples"))
    for folder in ("connectors", "processors"):
        for example in (EXAMPLES / folder).glob("*.json"):
            shutil.copy(example, root / folder / example.name)
    for name, value in SOURCE_ENV.items():
        monkeypatch.setenv(name, value)
    return World(root)


def load(kind: Kind, world: World) -> object:
    """The kind's files loaded as the app and the CLI load them."""
    root = world.root
    if kind == "webhooks":
        desired = load_desired(root / "webhooks.json", world.env, workspace_id="ws-1")
        check_coverage(root / "webhooks.json", desired)  # as `lx webhooks plan|apply` do
        return desired
    if kind == "notifications":
        return load_rules(root / "notifications.json", world.env)  # runtime.relay()
    if kind == "quality":
        return load_quality(root / "quality.json")  # runtime.quality_reminders()
    if kind == "scoring":
        return load_models(root / "scoring")  # runtime.survey_scorer()
    return load_registry(root / "connectors")  # build_blueprint(), `lx connectors validate`


def refusal(kind: Kind, world: World) -> DocumentError:
    """The one error the broken world is refused with, after checking that nothing of it
    was half-loaded (see the module's docstring for what that means per kind)."""
    if kind in ("connectors", "processors"):
        registry = load(kind, world)
        assert isinstance(registry, Registry)
        assert sorted(registry.connectors) == ["applications-export"], "the good one loads"
        good = registry.connectors["applications-export"]
        assert good.processors.identity == good.identity, "complete, with its processor file"
        [error] = registry.errors
        return error
    with pytest.raises(DocumentError) as caught:  # raising is returning nothing, no partial list
        load(kind, world)
    return caught.value


@dataclass(frozen=True)
class Case:
    kind: Kind
    form: str
    breaks: Callable[[World], None]
    #: The file the error must name (relative), and the JSON path and rule it must give.
    file: str
    path: str
    rule: str
    #: Text the message must hold (the field, the reference), and must not (the good entry).
    says: tuple[str, ...] = ()
    not_says: tuple[str, ...] = ()
    settings: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.form}"


def _edit(
    rel: str, *changes: tuple[tuple[Part, ...], Any], save_as: str = ""
) -> Callable[[World], None]:
    return lambda world: world.edit(rel, *changes, save_as=save_as)


def _truncate(rel: str) -> Callable[[World], None]:
    return lambda world: world.truncate(rel)


def _unset(name: str) -> Callable[[World], None]:
    def breaks(world: World) -> None:
        del world.env[name]

    return breaks


def _syntax(kind: Kind) -> Case:
    """Form 1, the same for every kind: a truncated file, named with the line and column."""
    file = FILES[kind]
    return Case(kind, "syntax", _truncate(file), file, "$", "json-syntax", ("not valid JSON at ",))


W, N, Q, S = FILES["webhooks"], FILES["notifications"], FILES["quality"], FILES["scoring"]
C, P = FILES["connectors"], FILES["processors"]
CASES: list[Case] = [
    *(_syntax(kind) for kind in KINDS),
    # -- webhooks.json: ${NAME} placeholders; references are the handlers' routes (checked by
    # check_coverage) and callbackFile; a file of many entries, all or nothing.
    Case(
        "webhooks",
        "wrong-type",
        _edit(W, (("subscriptions", 0, "targetUrl"), 42)),
        W,
        "$.subscriptions[0].targetUrl",
        "type",
        ("subscription lx-functions-time", "must be a string"),
    ),
    Case(
        "webhooks",
        "wrong-type-filled-from-a-secret",
        _edit(W, (("subscriptions", 0, "maxBatchSize"), "${LX_FUNCTION_KEY}")),
        W,
        "$.subscriptions[0].maxBatchSize",
        "type",
        ("must be a valid integer",),
    ),
    Case(
        "webhooks",
        "unknown-key",
        _edit(W, (("subscriptions", 2, "targetURL"), "${LX_FUNCTIONS_BASE_URL}/api/x")),
        W,
        "$.subscriptions[2].targetURL",
        "unknown-key",
    ),
    Case(
        "webhooks",
        "unknown-key-top-level",
        _edit(W, (("subscription",), [])),
        W,
        "$.subscription",
        "unknown-key",
    ),
    Case(
        "webhooks",
        "missing-reference-route",
        _edit(
            W,
            (
                ("subscriptions", 1, "targetUrl"),
                "${LX_FUNCTIONS_BASE_URL}/api/leanix/nothing?code=${LX_FUNCTION_KEY}",
            ),
        ),
        W,
        "$.subscriptions[1].targetUrl",
        "handler-coverage",
        ("lx-functions-creator-subscription targets leanix/nothing, which no handler serves",),
    ),
    Case(
        "webhooks",
        "missing-reference-callback-file",
        _edit(W, (("subscriptions", 0, "callbackFile"), "callbacks/missing.js")),
        W,
        "$.subscriptions[0].callbackFile",
        "missing-reference",
        ("callbacks/missing.js",),
    ),
    Case(
        "webhooks",
        "unset-placeholder",
        _unset("LX_FUNCTIONS_BASE_URL"),  # LX_FUNCTION_KEY and the secret hold the canary
        W,
        "$.subscriptions[0].targetUrl",
        "unset-placeholder",
        ("LX_FUNCTIONS_BASE_URL",),
        settings=("LX_FUNCTIONS_BASE_URL",),
    ),
    Case(
        "webhooks",
        "half-loaded",
        _edit(W, (("subscriptions", 5, "deliveryType"), "SMOKE")),
        W,
        "$.subscriptions[5].deliveryType",
        "enum",
        ("subscription lx-functions-subscription-removed",),
        ("lx-functions-time",),
    ),
    # -- notifications.json: ${NAME} placeholders (the URLs are secrets); references are the
    # channels routes and the dead letters' fallback name; many channels, all or nothing.
    Case(
        "notifications",
        "wrong-type",
        _edit(N, (("sources", "pull", 0, "subscription"), 7)),
        N,
        "$.sources.pull[0].subscription",
        "type",
        ("must be a string",),
    ),
    Case(
        "notifications",
        "wrong-type-filled-from-a-secret",
        _edit(N, (("deadLetter", "maxAttempts"), "${LX_NOTIFY_SLACK_URL}")),
        N,
        "$.deadLetter.maxAttempts",
        "type",
    ),
    Case(
        "notifications",
        "unknown-key",
        _edit(N, (("channels", "ops-teams", "colour"), "red")),
        N,
        '$.channels["ops-teams"].colour',
        "unknown-key",
    ),
    # A reference is checked across the whole file, so its path is "$"; the message names the
    # field (routes[1], deadLetter.fallbackChannel) and the missing name.
    Case(
        "notifications",
        "missing-reference-route",
        _edit(N, (("routes", 1, "channels"), ["ops-pager"])),
        N,
        "$",
        "invalid",
        ("routes[1] names channel 'ops-pager', which is not defined",),
    ),
    Case(
        "notifications",
        "missing-reference-fallback",
        _edit(N, (("deadLetter", "fallbackChannel"), "ops-pager")),
        N,
        "$",
        "invalid",
        ("deadLetter.fallbackChannel 'ops-pager' is not a defined channel",),
    ),
    Case(
        "notifications",
        "unset-placeholder",
        _unset("LX_NOTIFY_EMAIL_TO"),  # the Slack and Teams URLs hold the canary
        N,
        '$.channels["ea-mail"].to[0]',
        "unset-placeholder",
        ("${LX_NOTIFY_EMAIL_TO} has no value",),
    ),
    Case(
        "notifications",
        "half-loaded",
        _edit(N, (("channels", "ops-teams", "maxBytes"), 1)),
        N,
        '$.channels["ops-teams"].maxBytes',
        "range",
        (),
        ("ops-slack",),
    ),
    # -- quality.json: no placeholders (see the literal test below) and no references: fact
    # sheet types, fields, roles and the relation live in the workspace and are read at run
    # time, so there is no missing-reference form for it. Many checkers, all or nothing.
    Case(
        "quality",
        "wrong-type",
        _edit(Q, (("checkers", 0, "field"), 7)),
        Q,
        "$.checkers[0].field",
        "type",
        ("must be a string",),
    ),
    Case(
        "quality",
        "unknown-key",
        _edit(Q, (("checkers", 1, "severity"), "high")),
        Q,
        "$.checkers[1].severity",
        "unknown-key",
    ),
    Case(
        "quality",
        "unset-placeholder",  # not filled: in a field name it breaks the name's pattern
        _edit(Q, (("checkers", 0, "field"), "${LX_QUALITY_FIELD}")),
        Q,
        "$.checkers[0].field",
        "pattern",
    ),
    Case(
        "quality",
        "half-loaded",
        _edit(Q, (("checkers", 5, "days"), 0)),
        Q,
        "$.checkers[5].days",
        "range",
    ),
    # -- scoring/*.json: no placeholders; the reference is a band named by targets.tag.tags; a
    # folder of models, all or nothing.
    Case(
        "scoring",
        "wrong-type",
        _edit(S, (("questions", 0, "id"), 7)),
        S,
        "$.questions[0].id",
        "type",
        ("must be a string",),
    ),
    Case(
        "scoring",
        "unknown-key",
        _edit(S, (("targets", "field", "units"), "%")),
        S,
        "$.targets.field.units",
        "unknown-key",
    ),
    Case(
        "scoring",
        "missing-reference",
        _edit(
            S,
            (("targets", "tag", "tags"), {"High": "H", "Medium": "M", "Low": "L", "Top": "T"}),
        ),
        S,
        "$",
        "invalid",
        ("targets.tag.tags names bands the model lacks: ['Top']",),
    ),
    Case(
        "scoring",
        "unset-placeholder",  # not filled: in a field name it breaks the name's pattern
        _edit(S, (("targets", "field", "name"), "${LX_SCORE_FIELD}")),
        S,
        "$.targets.field.name",
        "pattern",
    ),
    Case(
        "scoring",
        "half-loaded",  # cloud-readiness.json sorts first and is valid: still nothing loads
        _edit(
            S,
            (("survey", "title"), "Another survey"),
            (("version",), 0),
            save_as="scoring/z-broken.json",
        ),
        "scoring/z-broken.json",
        "$.version",
        "range",
        (),
        ("cloud-readiness",),
    ),
    # -- connectors/*.json: %SETTING% (not ${NAME}) names app settings, resolved when the
    # source is read (see test_a_connector_setting_...); the reference is the processor file.
    Case(
        "connectors",
        "wrong-type",
        _edit(C, (("source", "url"), 7)),
        C,
        "$.source.url",
        "type",
        ("must be a string",),
    ),
    Case(
        "connectors",
        "unknown-key",
        _edit(C, (("source", "paging", "nextLnk"), "links.next")),
        C,
        "$.source.paging.nextLnk",
        "unknown-key",
    ),
    Case(
        "connectors",
        "unknown-key-inline-secret",
        _edit(C, (("source", "auth", "token"), CANARY)),
        C,
        "$.source.auth.token",
        "unknown-key",
    ),
    Case(
        "connectors",
        "missing-reference",
        _edit(C, (("processors",), "../processors/missing.json")),
        C,
        "$.processors",
        "missing-reference",
        ("../processors/missing.json",),
    ),
    Case(
        "connectors",
        "unset-placeholder",  # ${NAME} is not this file's syntax: refused where a URL must be
        _edit(C, (("source", "url"), "${LX_SOURCE_APPLICATIONS_URL}")),
        C,
        "$.source.url",
        "invalid",
        ("%APP_SETTING%",),
    ),
    Case(
        "connectors",
        "half-loaded",
        _edit(C, (("deadlineSeconds",), 5)),
        C,
        "$.deadlineSeconds",
        "range",
        (),
        ("applications-export",),
    ),
    # -- processors/*.json: exactly what LeanIX stores. Unknown keys are kept by design (see
    # test_processor_files_keep_unknown_keys); the one refused is a key the model knows to be
    # misplaced. ${...} is the processors' own JUEL, never a placeholder (literal test below),
    # so there is no unset-placeholder form. The reference is the connector identity.
    Case(
        "processors",
        "wrong-type",
        _edit(P, (("processors", 0, "type"), 7)),
        P,
        "$.processors[0].type",
        "type",
        ("must be a string",),
    ),
    Case(
        "processors",
        "unknown-key-misplaced",
        _edit(P, (("processors", 0, "deletionScope"), {"factSheets": []})),
        P,
        "$.processors[0].deletionScope",
        "deletion-scope-on-processor",
    ),
    Case(
        "processors",
        "missing-reference",  # no connector names this identity: its connector is refused
        _edit(P, (("connectorId",), "applications-import-v2")),
        C,
        "$.connector",
        "identity-mismatch",
        ("applications-import-v2",),
    ),
    Case(
        "processors",
        "half-loaded",  # the connector file is fine; without its processors it is absent
        _edit(P, (("processors", 0, "run"), "first")),
        P,
        "$.processors[0].run",
        "type",
        (),
        ("applications-export",),
    ),
]


@pytest.mark.parametrize("kind", KINDS)
def test_the_unbroken_files_load(world: World, kind: Kind) -> None:
    """Every case below breaks a file that loads: the failure is the break, nothing else."""
    loaded = load(kind, world)
    if isinstance(loaded, Registry):
        assert loaded.errors == ()
        assert sorted(loaded.connectors) == ["applications-export", "applications-import"]
    else:
        assert loaded


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_broken_file_is_refused_naming_file_path_and_rule(world: World, case: Case) -> None:
    case.breaks(world)
    error = refusal(case.kind, world)
    assert Path(error.file).resolve() == (world.root / case.file).resolve(), str(error)
    assert (error.path, error.rule) == (case.path, case.rule), str(error)
    text = str(error)
    assert text.startswith(f"{error.file}: {error.path}: "), "the file and path lead the line"
    if case.form == "syntax":
        assert re.search(r"not valid JSON at \d+:\d+: ", text), text
    for expected in case.says:
        assert expected in text
    for unexpected in case.not_says:
        assert unexpected not in text, "the error names the broken entry, not a good one"
    assert error.settings == case.settings
    assert CANARY not in text and CANARY not in repr(error.args), "a secret leaked"


def test_every_kind_is_tried_in_every_form_it_has() -> None:
    """The matrix, kind by kind; a form left out is left out on purpose (see the cases)."""
    forms: dict[str, set[str]] = {}
    for case in CASES:
        forms.setdefault(case.kind, set()).add(case.form.split("-filled")[0])
    base = {"syntax", "wrong-type", "half-loaded"}
    assert all(base <= found for found in forms.values()), forms
    assert all(any(f.startswith("unknown-key") for f in found) for found in forms.values())
    without_references = {"quality"}
    without_placeholders = {"processors"}  # ${...} is JUEL there: see the literal test
    for kind, found in forms.items():
        assert any(f.startswith("missing-reference") for f in found) == (
            kind not in without_references
        ), kind
        assert ("unset-placeholder" in found) == (kind not in without_placeholders), kind


# -- ${NAME} where a kind has no placeholders: kept as written, never filled ------------------

LITERAL = "${LX_SOURCE_APPLICATIONS_TOKEN}"  # set, to the canary, in the process environment


@pytest.mark.parametrize(
    ("kind", "rel", "parts"),
    [
        ("quality", Q, ("checkers", 0, "message")),
        ("scoring", S, ("survey", "title")),
        ("connectors", C, ("description",)),
        ("processors", P, ("processors", 0, "updates", 0, "values", 0, "expr")),
    ],
    ids=["quality", "scoring", "connectors", "processors"],
)
def test_a_placeholder_where_none_is_supported_stays_literal(
    world: World, kind: Kind, rel: str, parts: tuple[Part, ...]
) -> None:
    """Designed: only webhooks.json and notifications.json fill ${NAME}. Elsewhere it is text
    (in a processor file, LeanIX's own JUEL), so a set variable's value never ends up in what
    is scored, mailed or sent to LeanIX."""
    world.edit(rel, (parts, LITERAL))
    loaded = load(kind, world)
    if isinstance(loaded, Registry):
        assert loaded.errors == ()
        connector = loaded.connectors["applications-import"]
        kept: list[Any] = [connector.spec.model_dump(mode="json"), connector.processor_document()]
    else:
        models = loaded if isinstance(loaded, tuple) else (loaded,)
        kept = [m.model_dump(mode="json") for m in models if isinstance(m, BaseModel)]
        assert len(kept) == len(models)
    dumped = json.dumps(kept)
    assert LITERAL in dumped and CANARY not in dumped


def test_processor_files_keep_unknown_keys(world: World) -> None:
    """Designed: a processor file is what LeanIX stores, and a configuration exported from the
    LeanIX UI carries keys and processor types this model does not know; they are sent back
    exactly as read, never dropped."""
    world.edit(
        P,
        (("newLeanixOption",), {"on": True}),
        (("processors", 0, "futureKey"), 1),
    )
    registry = load("processors", world)
    assert isinstance(registry, Registry) and registry.errors == ()
    document = registry.connectors["applications-import"].processor_document()
    assert document["newLeanixOption"] == {"on": True}
    assert document["processors"][0]["futureKey"] == 1


# -- %SETTING% in a connector: resolved when the source is read, named, never echoed ----------


@pytest.mark.parametrize(
    ("unset", "named"),
    [
        ("LX_SOURCE_APPLICATIONS_URL", "source URL setting LX_SOURCE_APPLICATIONS_URL is not set"),
        (
            "LX_SOURCE_APPLICATIONS_TOKEN",
            "source auth setting LX_SOURCE_APPLICATIONS_TOKEN is not set",
        ),
    ],
    ids=["url", "token"],
)
def test_a_connector_setting_without_a_value_is_refused_when_read_naming_it(
    world: World, unset: str, named: str
) -> None:
    """Designed: a connector's settings are app settings the host and the run resolve, so the
    file loads (its timer is registered) and the run that reads the source is refused, naming
    the setting; the one that is set (the canary) is never repeated."""
    registry = load("connectors", world)
    assert isinstance(registry, Registry) and registry.errors == ()
    source = registry.connectors["applications-import"].spec.source
    assert isinstance(source, HttpsJsonSource) and source.url == "%LX_SOURCE_APPLICATIONS_URL%"
    env = {name: value for name, value in SOURCE_ENV.items() if name != unset}
    with pytest.raises(ConfigurationError) as caught:
        read_source(source, env=env)
    assert named in str(caught.value) and caught.value.settings == (unset,)
    assert CANARY not in str(caught.value)


def test_a_connector_setting_with_a_bad_value_is_refused_without_repeating_it(
    world: World,
) -> None:
    registry = load("connectors", world)
    assert isinstance(registry, Registry)
    source = registry.connectors["applications-import"].spec.source
    assert isinstance(source, HttpsJsonSource)
    env = {**SOURCE_ENV, "LX_SOURCE_APPLICATIONS_URL": f"http://cmdb.example.com/{CANARY}"}
    with pytest.raises(ConfigurationError, match="LX_SOURCE_APPLICATIONS_URL: must use https"):
        read_source(source, env=env)
    with pytest.raises(ConfigurationError) as caught:
        read_source(source, env=env)
    assert CANARY not in str(caught.value)


# -- the CLI's view of a broken connector folder ----------------------------------------------


def test_lx_connectors_validate_names_the_broken_file_and_its_path(world: World) -> None:
    """What CI runs: exit 1, the good connector listed valid, the broken one by file and the
    path in the file (not pydantic's union tags)."""
    world.edit(C, (("source", "paging", "nextLink"), 7))
    result = CliRunner().invoke(
        app,
        [
            "--settings",
            "/nonexistent/local.settings.json",
            "connectors",
            "validate",
            "--dir",
            str(world.root / "connectors"),
            "--json",
        ],
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["valid"] == ["applications-export"]
    [invalid] = report["invalid"]
    assert invalid["file"] == str(world.root / C)
    assert (invalid["path"], invalid["rule"]) == ("$.source.paging.nextLink", "invalid")
