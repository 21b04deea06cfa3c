"""Offline checks of the GitHub Actions workflows (.github/workflows/*.yml).

- actionlint (from the dev extras) reports nothing on them, with shellcheck on the `run:` scripts
  where a shellcheck binary is installed. A broken workflow is reported, so the lint is live.
- Everything they call exists: make targets in the Makefile, scripts and repository files
  (`$VAR` in a path expanded to every value the workflow can give it), `python -m` modules, and
  `lx` subcommands in the typer app.
- No credential is written in them: no long hex or base64 token, no `Bearer` value, no literal
  under a secret-like name, and no `secrets.*` at all (Azure login is OIDC; the LeanIX secrets
  come from Key Vault at run time). Values reach `run:` scripts only through `env:`.
- Permissions are minimal: `contents: read` for the workflow, `id-token: write` only on the job
  that runs azure/login, no other write scope.
- Actions are pinned to commit SHAs, every job has a timeout, and deploy.yml runs its steps in
  the order it documents.

Each rule is a function that returns its problems, so the negative tests feed it broken input.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pathspec
import pytest
import typer.main
import yaml

from lx_cli.main import app as lx_app

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS_DIR = ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOWS_DIR.glob("*.yml"))
DEPLOY = WORKFLOWS_DIR / "deploy.yml"
CI = WORKFLOWS_DIR / "ci.yml"
#: CI's limit for one run (the workplace's, and ci.yml's own timeout).
MAX_TIMEOUT_MINUTES = 90

Workflow = dict[str, Any]


def _load(text: str) -> Workflow:
    data = yaml.safe_load(text)
    assert isinstance(data, dict), "a workflow is a mapping"
    if True in data:  # YAML 1.1 reads the key `on` as the boolean true
        data["on"] = data.pop(True)
    return data


def _jobs(workflow: Workflow) -> dict[str, dict[str, Any]]:
    return dict(workflow.get("jobs") or {})


def _steps(job: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


def _uses(step: Mapping[str, Any]) -> str:
    return str(step.get("uses") or "")


def _runs_azure_login(job: Mapping[str, Any]) -> bool:
    return any(_uses(step).lower().startswith("azure/login@") for step in _steps(job))


def test_the_workflows_are_there() -> None:
    assert {"ci.yml", "deploy.yml"} <= {w.name for w in WORKFLOWS}


# -- actionlint ------------------------------------------------------------------------------


def _tool(name: str) -> str | None:
    """``name`` next to this interpreter (the venv's bin/), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which(name)


def _actionlint(*files: Path) -> list[dict[str, Any]]:
    binary = _tool("actionlint")
    if binary is None:
        pytest.fail("actionlint is not installed: run `make install` (dev extras)", pytrace=False)
    shellcheck = _tool("shellcheck") or ""  # empty: actionlint runs without shellcheck
    done = subprocess.run(  # noqa: S603 - the venv's actionlint on the repo's files
        [binary, "-format", "{{json .}}", "-shellcheck", shellcheck, "-pyflakes", "", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr  # 1: problems found; more: actionlint failed
    found: list[dict[str, Any]] = json.loads(done.stdout or "[]")
    assert (done.returncode == 1) == bool(found), done.stdout + done.stderr
    return found


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_reports_nothing(workflow: Path) -> None:
    found = _actionlint(workflow)
    assert found == [], "\n".join(f"{e['line']}:{e['column']} {e['message']}" for e in found)


BROKEN = """\
name: broken
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          no-such-input: true
      - run: echo ${{ github.event.head_commit.message }} $UNQUOTED
      - run: echo "${{ steps.missing.outputs.value }}"
"""


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(BROKEN, encoding="utf-8")
    messages = " | ".join(e["message"] for e in _actionlint(broken))
    assert 'input "no-such-input" is not defined' in messages
    assert '"github.event.head_commit.message" is potentially untrusted' in messages
    assert 'property "missing" is not defined' in messages
    if _tool("shellcheck") is not None:
        assert "SC2086" in messages  # $UNQUOTED: shellcheck is wired in


# -- everything a workflow calls exists ------------------------------------------------------

#: Shell words that are not the program of a command.
_KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}"}
_SEPARATORS = {";", "&&", "||", "|", "(", ")", "&", ";;", "|&", "((", "))"}
#: First path segments (or names) of files that live in the repository.
_REPO_ROOTS = {".ci", ".github", "bench", "docs", "functions", "infra", "lx_cli", "lx_core"}
_REPO_ROOTS |= {"lx_sandbox", "scripts", "tests"}
_REPO_FILE = re.compile(r"^[\w.-]+\.(?:bicep|bicepparam|json|py|sh|toml|txt|ya?ml)$")
_VAR = re.compile(r"\$\{?(\w+)\}?")
_INPUT_OR_DEFAULT = re.compile(r"^\$\{\{\s*inputs\.(\w+)\s*\|\|\s*'([^']*)'\s*\}\}$")


@cache
def _make_targets() -> frozenset[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return frozenset(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", text, flags=re.MULTILINE))


@cache
def _lx_commands() -> frozenset[tuple[str, ...]]:
    """Every command path of the `lx` typer app: ("config",), ("config", "apply"), ..."""
    paths: set[tuple[str, ...]] = set()

    def walk(command: Any, prefix: tuple[str, ...]) -> None:
        for name, sub in (getattr(command, "commands", None) or {}).items():
            paths.add((*prefix, name))
            walk(sub, (*prefix, name))

    walk(typer.main.get_command(lx_app), ())
    return frozenset(paths)


def _commands(script: str) -> Iterator[list[str]]:
    """The simple commands of a bash script, as words (quotes removed, `$VAR` kept)."""
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True  # `$VAR`, `${X}` and `a=b` stay one word
        words: list[str] = []
        for token in lexer:
            if token in _SEPARATORS:
                if words:
                    yield words
                words = []
            elif words or not (token in _KEYWORDS or re.match(r"^\w+=", token)):
                words.append(token)  # `if`, `then`, `NAME=value` before a program are skipped
        if words:
            yield words


class Resolver:
    """The values a `$VAR` can have in a step: literal env values, and for
    `${{ inputs.X || 'default' }}` every choice of input X plus the default."""

    def __init__(self, workflow: Workflow) -> None:
        dispatch = (workflow.get("on") or {}).get("workflow_dispatch") or {}
        self.inputs: dict[str, Any] = dispatch.get("inputs") or {}

    def values(self, raw: object) -> list[str] | None:
        value = str(raw)
        if "${{" not in value:
            return [value]
        match = _INPUT_OR_DEFAULT.match(value.strip())
        if match is None:
            return None
        options = [str(o) for o in (self.inputs.get(match[1]) or {}).get("options") or []]
        return sorted({*options, match[2]})

    def expand(self, word: str, env: Mapping[str, object]) -> list[str] | None:
        """Every spelling of ``word`` with its variables replaced; None if one is unknown."""
        spellings = [word]
        for name in dict.fromkeys(_VAR.findall(word)):
            values = self.values(env[name]) if name in env else None
            if values is None:
                return None
            pattern = re.compile(r"\$\{?" + name + r"\b\}?")
            spellings = [pattern.sub(v, s) for s in spellings for v in values]
        return spellings


def _is_repo_path(word: str) -> bool:
    if word.startswith(("$", "-", "/")) or "://" in word or "=" in word or not word:
        return False
    first = word.removeprefix("./").split("/", 1)[0]
    return first in _REPO_ROOTS if "/" in word else bool(_REPO_FILE.match(word))


def reference_problems(workflow: Workflow) -> tuple[list[str], set[str]]:
    """Problems with what ``workflow`` calls, and what was checked (to prove the check ran)."""
    problems: list[str] = []
    checked: set[str] = set()
    resolver = Resolver(workflow)

    def check_path(word: str, env: Mapping[str, object], where: str) -> None:
        spellings = resolver.expand(word, env)
        if spellings is None:
            problems.append(f"{where}: cannot tell which file {word!r} is")
            return
        for path in spellings:
            checked.add(path.removeprefix("./"))
            if not (ROOT / path).exists():
                problems.append(f"{where}: {path} does not exist")

    def check_command(words: list[str], env: Mapping[str, object], where: str) -> None:
        program, args = words[0], words[1:]
        name = program.rsplit("/", 1)[-1]
        if program.startswith(".venv/bin/"):
            program = name
        if _is_repo_path(program):
            check_path(program, env, where)
        if name in {"python", "python3"} and args[:1] == ["-m"] and len(args) > 1:
            checked.add(f"python -m {args[1]}")
            if importlib.util.find_spec(args[1]) is None:
                problems.append(f"{where}: python -m {args[1]}: no such module")
        elif program == "make":
            for target in (a for a in args if not a.startswith("-") and "=" not in a):
                checked.add(f"make {target}")
                if target not in _make_targets():
                    problems.append(f"{where}: make {target}: no such target in the Makefile")
        elif program == "lx":
            path = tuple(a for a in _leading_words(args))
            checked.add("lx " + " ".join(path))
            if not path or path not in _lx_commands():
                problems.append(f"{where}: lx {' '.join(path)}: no such lx command")
        for word in args:
            if _is_repo_path(word):
                check_path(word, env, where)

    workflow_env = dict(workflow.get("env") or {})
    for job_id, job in _jobs(workflow).items():
        job_env = {**workflow_env, **(job.get("env") or {})}
        for value in job_env.values():
            if _is_repo_path(str(value)):
                check_path(str(value), job_env, f"{job_id} env")
        for index, step in enumerate(_steps(job)):
            where = f"{job_id} step {index + 1} ({step.get('name') or _uses(step)})"
            env = {**job_env, **(step.get("env") or {})}
            if _uses(step).startswith("./"):
                check_path(_uses(step), env, where)
            for words in _commands(str(step.get("run") or "")):
                check_command(words, env, where)
    return problems, checked


def _leading_words(args: list[str]) -> Iterator[str]:
    for arg in args:
        if arg.startswith(("-", "$")):
            return
        yield arg


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_everything_a_workflow_calls_exists(workflow: Path) -> None:
    problems, checked = reference_problems(_load(workflow.read_text(encoding="utf-8")))
    assert problems == []
    assert ".ci/run" in checked


def test_deploy_references_the_template_both_parameter_files_and_the_tools() -> None:
    _, checked = reference_problems(_load(DEPLOY.read_text(encoding="utf-8")))
    assert {
        "infra/azure/main.bicep",
        "infra/azure/test.bicepparam",
        "infra/azure/production.bicepparam",
        "requirements.txt",
        "make install",
        "python -m lx_cli.smoke",
        "lx config plan",
        "lx config apply",
    } <= checked


MISSING_THINGS = """\
on:
  workflow_dispatch:
    inputs:
      environment: {type: choice, options: [test, staging]}
jobs:
  a:
    env:
      TARGET: ${{ inputs.environment || 'production' }}
      OTHER: ${{ github.sha }}
    steps:
      - uses: ./.github/actions/none
      - run: |
          make install && make no-such-target
          bash .ci/nope
          ./scripts/missing.sh --flag
          .venv/bin/python -m lx_cli.no_such_module
          python scripts/absent.py
          .venv/bin/lx config destroy
          lx conf apply --prune
          az deployment group create --parameters "infra/azure/$TARGET.bicepparam"
          cat "infra/$OTHER.json"
"""


def test_missing_targets_scripts_modules_commands_and_files_are_reported() -> None:
    problems, _ = reference_problems(_load(MISSING_THINGS))
    text = "\n".join(problems)
    for expected in (
        ".github/actions/none does not exist",
        "make no-such-target: no such target",
        ".ci/nope does not exist",
        "scripts/missing.sh does not exist",
        "python -m lx_cli.no_such_module: no such module",
        "scripts/absent.py does not exist",
        "lx config destroy: no such lx command",
        "lx conf apply: no such lx command",
        "infra/azure/staging.bicepparam does not exist",
        "cannot tell which file 'infra/$OTHER.json' is",
    ):
        assert expected in text, text
    assert "make install" not in text


# -- no credential in a workflow -------------------------------------------------------------

_SHA_PIN = re.compile(r"@[0-9a-f]{40}\b")
_CANDIDATE = re.compile(r"[A-Za-z0-9+=_-]{32,}")
_HEX = re.compile(r"^[0-9a-fA-F]{32,}$")
_BEARER = re.compile(r"\bBearer\s+(?![$\"'])([A-Za-z0-9._~+/=-]{8,})")
_SECRET_NAME = re.compile(
    r"(?i)(pass(word|wd)?|secret|token|api[-_]?key|credential|private[-_]?key)"
)
#: `${{ secrets.X }}`, `${{ vars.X }}` and other context values, `$VAR`, `$(command)`.
_RUNTIME_VALUE = re.compile(
    r"^(\$\{\{\s*(secrets|vars|inputs|steps|needs|env|github)\.[\w.-]+\s*\}\}"
    r"|\$\{?\w+\}?|\$\(.*\))$"
)
_ASSIGNMENT = re.compile(r"(?m)^\s*(?:export\s+)?(\w+)=(\S*)")


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _looks_like_a_token(word: str) -> bool:
    if _HEX.match(word):
        return True
    mixed = all(re.search(p, word) for p in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    return mixed and _entropy(word) >= 4.0


def _mappings(node: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every (key path, value) of a parsed YAML tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, str(key)), value
            yield from _mappings(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _mappings(item, (*path, str(index)))


def secret_problems(text: str) -> list[str]:
    """Literal credentials in a workflow's text; runtime values (`${{ secrets.X }}`,
    `${{ vars.X }}`, `$VAR`, `$(command)`) are fine."""
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        unpinned = _SHA_PIN.sub("@", line)
        for word in _CANDIDATE.findall(unpinned):
            if _looks_like_a_token(word):
                problems.append(f"line {number}: looks like a token: {word[:6]}…")
        for value in _BEARER.findall(line):
            problems.append(f"line {number}: a Bearer value: {value[:4]}…")
    workflow = _load(text)
    for path, value in _mappings(workflow):
        if "permissions" in path or not _SECRET_NAME.search(path[-1]):
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            continue  # `persist-credentials: false` is a switch, not a credential
        if not _RUNTIME_VALUE.match(str(value).strip()):
            problems.append(f"{'.'.join(path)}: a literal value under a secret-like name")
    for path, value in _mappings(workflow):
        if path[-1] != "run":
            continue
        for name, assigned in _ASSIGNMENT.findall(str(value)):
            if _SECRET_NAME.search(name) and assigned and not assigned.startswith(("$", '"$')):
                problems.append(f"{'.'.join(path)}: {name} is assigned a literal")
    return problems


def secret_references(text: str) -> set[str]:
    return set(re.findall(r"\bsecrets\.(\w+)", text))


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_no_credential_is_written_in_a_workflow(workflow: Path) -> None:
    text = workflow.read_text(encoding="utf-8")
    assert secret_problems(text) == []
    # GitHub holds no secret for this project: OIDC for Azure, Key Vault for LeanIX.
    assert secret_references(text) == set()


LEAKY = """\
on: push
env:
  LEANIX_API_TOKEN: x7Kp2mQ9vR4tW8yZ1bN5cF3hJ6gL0dSe
  CLIENT_SECRET: hunter2
jobs:
  a:
    steps:
      - uses: some/action@v1
        with:
          client-secret: abc.def-123
          password: ${{ secrets.PASSWORD }}
          token: ${{ vars.TOKEN }}
      - run: |
          curl -H "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9" https://example.com
          API_KEY=sk_live_1234
          KEY=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
          TOKEN=$(az keyvault secret show --name t --query value -o tsv)
"""


def test_literal_credentials_are_reported() -> None:
    problems = secret_problems(LEAKY)
    text = "\n".join(problems)
    for expected in (
        "line 3: looks like a token",
        "env.LEANIX_API_TOKEN: a literal value",
        "env.CLIENT_SECRET: a literal value",
        "jobs.a.steps.0.with.client-secret: a literal value",
        "line 14: a Bearer value: eyJh",
        "API_KEY is assigned a literal",
        "line 16: looks like a token",  # the 64-digit hex
    ):
        assert expected in text, text
    assert len(problems) == 7, text  # not `password`, `token` (runtime values), nor TOKEN=$(…)
    assert secret_references(LEAKY) == {"PASSWORD"}


# -- permissions -----------------------------------------------------------------------------


def permission_problems(workflow: Workflow) -> list[str]:
    problems: list[str] = []
    top = workflow.get("permissions")
    if not isinstance(top, dict) or not set(top.items()) <= {("contents", "read")}:
        problems.append(f"workflow permissions must be `contents: read` at most, not {top!r}")
    for job_id, job in _jobs(workflow).items():
        scopes = job.get("permissions")
        if scopes is None:
            if _runs_azure_login(job):
                problems.append(f"{job_id}: runs azure/login without `id-token: write`")
            continue
        if not isinstance(scopes, dict):
            problems.append(f"{job_id}: permissions {scopes!r}: name each scope")
            continue
        for scope, level in scopes.items():
            if level == "none" or (scope, level) == ("contents", "read"):
                continue
            if (scope, level) == ("id-token", "write") and _runs_azure_login(job):
                continue
            problems.append(f"{job_id}: `{scope}: {level}` is not needed")
        if _runs_azure_login(job) and scopes.get("id-token") != "write":
            problems.append(f"{job_id}: runs azure/login without `id-token: write`")
    return problems


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_minimal(workflow: Path) -> None:
    assert permission_problems(_load(workflow.read_text(encoding="utf-8"))) == []


def test_only_the_azure_login_job_gets_an_id_token() -> None:
    jobs = _jobs(_load(DEPLOY.read_text(encoding="utf-8")))
    with_token = {j for j, job in jobs.items() if (job.get("permissions") or {}).get("id-token")}
    assert with_token == {"deploy"} == {j for j, job in jobs.items() if _runs_azure_login(job)}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("permissions: write-all\njobs: {}", "workflow permissions must be"),
        ("permissions: {contents: write}\njobs: {}", "workflow permissions must be"),
        ("jobs: {}", "workflow permissions must be"),
        (
            "permissions: {contents: read}\njobs: {a: {permissions: read-all, steps: []}}",
            "a: permissions 'read-all': name each scope",
        ),
        (
            "permissions: {contents: read}\n"
            "jobs: {a: {permissions: {id-token: write}, steps: [{run: echo}]}}",
            "a: `id-token: write` is not needed",
        ),
        (
            "permissions: {contents: read}\n"
            "jobs: {a: {permissions: {pull-requests: write}, steps: []}}",
            "a: `pull-requests: write` is not needed",
        ),
        (
            "permissions: {contents: read}\njobs: {a: {permissions: {packages: read}}}",
            "a: `packages: read` is not needed",
        ),
        (
            "permissions: {contents: read}\njobs: {a: {steps: [{uses: azure/login@v3}]}}",
            "a: runs azure/login without `id-token: write`",
        ),
    ],
)
def test_broad_or_misplaced_permissions_are_reported(document: str, expected: str) -> None:
    problems = permission_problems(_load(document))
    assert any(expected in p for p in problems), problems


def test_the_least_permissions_pass() -> None:
    document = """\
permissions: {}
jobs:
  build: {steps: [{run: make test}]}
  deploy:
    permissions: {contents: read, id-token: write}
    steps: [{uses: azure/login@v3}]
"""
    assert permission_problems(_load(document)) == []


# -- pins, timeouts, scripts and the deploy's shape ------------------------------------------


@dataclass(frozen=True)
class Pin:
    """An action at one commit: its tag, and the inputs its action.yml declares there."""

    action: str
    tag: str
    inputs: frozenset[str]
    required: frozenset[str]


def _pin(action: str, tag: str, inputs: str, required: str = "") -> Pin:
    return Pin(action, tag, frozenset(inputs.split()), frozenset(required.split()))


#: Every action the workflows use, by commit. actionlint checks inputs only for actions named by
#: a tag it knows, not by a SHA, so this table does it for the pins. A new pin or a bump needs
#: its row, read from the action.yml at the new commit.
PINNED = {
    "3d3c42e5aac5ba805825da76410c181273ba90b1": _pin(
        "actions/checkout",
        "v7.0.1",
        "allow-unsafe-pr-checkout clean fetch-depth fetch-tags filter github-server-url lfs path "
        "persist-credentials ref repository set-safe-directory show-progress sparse-checkout "
        "sparse-checkout-cone-mode ssh-key ssh-known-hosts ssh-strict ssh-user submodules token",
    ),
    "5fda3b95a4ea91299a34e894583c3862153e4b97": _pin(
        "actions/setup-python",
        "v7.0.0",
        "allow-prereleases architecture cache cache-dependency-path check-latest freethreaded "
        "pip-version python-version python-version-file token update-environment",
    ),
    "820762786026740c76f36085b0efc47a31fe5020": _pin(
        "actions/setup-node",
        "v7.0.0",
        "architecture cache cache-dependency-path check-latest mirror mirror-token node-version "
        "node-version-file package-manager-cache registry-url scope token",
    ),
    "f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca": _pin(
        "azure/login",
        "v3.0.1",
        "allow-no-subscriptions audience auth-type client-id creds enable-AzPSSession "
        "environment subscription-id tenant-id",
    ),
    "c5060b3b8bb1ebbcb531abd00c822ecbaa8ea656": _pin(
        "Azure/functions-action",
        "v1.5.7",
        "app-name enable-oryx-build package publish-profile remote-build respect-funcignore "
        "respect-pom-xml scm-do-build-during-deployment sku slot-name",
        required="app-name",
    ),
}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_to_known_commits_with_their_tag(workflow: Path) -> None:
    for line in workflow.read_text(encoding="utf-8").splitlines():
        match = re.search(r"\buses:\s*([\w.-]+/[\w./-]+)@(\S+)(.*)$", line)
        if match is None:
            continue
        action, ref, comment = match.groups()
        assert ref in PINNED, f"not pinned to a known commit: {line.strip()}"
        assert (action, comment.strip()) == (PINNED[ref].action, f"# {PINNED[ref].tag}"), line


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_pinned_actions_get_only_the_inputs_they_declare(workflow: Path) -> None:
    for job in _jobs(_load(workflow.read_text(encoding="utf-8"))).values():
        for step in _steps(job):
            if "uses" not in step:
                continue
            pin = PINNED[_uses(step).split("@")[1]]
            given = set(step.get("with") or {})
            assert given <= pin.inputs, (_uses(step), given - pin.inputs)
            assert pin.required <= given, (_uses(step), pin.required - given)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_job_has_a_timeout_and_no_script_expands_an_expression(workflow: Path) -> None:
    for job_id, job in _jobs(_load(workflow.read_text(encoding="utf-8"))).items():
        assert 0 < int(job.get("timeout-minutes", 0)) <= MAX_TIMEOUT_MINUTES, job_id
        for step in _steps(job):
            # Values reach scripts through env: only, so no expression can inject shell code.
            assert "${{" not in str(step.get("run") or ""), (job_id, step.get("name"))


def test_ci_runs_make_test_on_pull_requests_and_main() -> None:
    workflow = _load(CI.read_text(encoding="utf-8"))
    assert set(workflow["on"]) == {"pull_request", "push"}
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["concurrency"]["cancel-in-progress"] == (
        "${{ github.event_name == 'pull_request' }}"
    )
    (job,) = _jobs(workflow).values()
    runs = [str(step.get("run")) for step in _steps(job) if "run" in step]
    assert runs == ["bash .ci/run"]
    versions = {
        _uses(step).split("@")[0]: step.get("with", {}) for step in _steps(job) if "uses" in step
    }
    assert versions["actions/setup-python"]["python-version"] == "3.11"
    assert versions["actions/setup-node"]["node-version"] == "20"


def _index(steps: list[dict[str, Any]], needle: str) -> int:
    """The first step whose `uses` or `run` contains ``needle``."""
    for index, step in enumerate(steps):
        if needle in _uses(step) or needle in str(step.get("run") or ""):
            return index
    raise AssertionError(f"no step contains {needle!r}")


def test_deploy_steps_run_in_their_documented_order() -> None:
    workflow = _load(DEPLOY.read_text(encoding="utf-8"))
    assert set(workflow["on"]) == {"push", "workflow_dispatch"}
    assert workflow["on"]["push"]["tags"] == ["v*"]
    choice = workflow["on"]["workflow_dispatch"]["inputs"]["environment"]
    assert (choice["type"], choice["options"]) == ("choice", ["test", "production"])
    jobs = _jobs(workflow)
    assert next(str(s.get("run")) for s in _steps(jobs["test"]) if "run" in s) == "bash .ci/run"
    deploy = jobs["deploy"]
    assert deploy["needs"] == "test"
    assert deploy["environment"]["name"] == "${{ inputs.environment || 'production' }}"
    steps = _steps(deploy)
    order = [
        _index(steps, needle)
        for needle in (
            "azure/login@",
            "az deployment group what-if",
            "az deployment group create",
            "az deployment group show",
            "git archive",
            "Azure/functions-action@",
            "lx_cli.smoke",
            "lx config plan",
            "lx config apply",
        )
    ]
    assert order == sorted(order)
    assert "GITHUB_STEP_SUMMARY" in str(steps[order[1]]["run"])
    code = steps[order[5]]["with"]
    assert code["sku"] == "flexconsumption"
    assert code["remote-build"] is True
    assert "respect-funcignore" not in code  # the staging step applies .funcignore
    assert code["package"] == "${{ runner.temp }}/package"
    login = steps[order[0]]["with"]
    assert login == {
        "client-id": "${{ vars.AZURE_CLIENT_ID }}",
        "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
        "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
    }
    apply_script = str(steps[order[8]]["run"])
    for secret in ("LEANIX_API_TOKEN", "LX_WEBHOOK_AUTHORIZATION", "LX_FUNCTION_KEY"):
        assigned = apply_script.index(f"{secret}=$(")
        assert assigned < apply_script.index("::add-mask::") < apply_script.index("lx config")
    # pip-audit gates the release before anything is deployed, in the job with no Azure token.
    assert _index(_steps(jobs["test"]), "--requirement requirements.txt") > 0


def test_the_parameter_files_and_outputs_it_uses_match_the_template() -> None:
    workflow = _load(DEPLOY.read_text(encoding="utf-8"))
    template = ROOT / str(_jobs(workflow)["deploy"]["env"]["TEMPLATE"])
    # `--template-file` with a .bicepparam: az requires the file's `using` to name that template.
    for target in workflow["on"]["workflow_dispatch"]["inputs"]["environment"]["options"]:
        parameters = template.parent / f"{target}.bicepparam"
        assert re.search(rf"^using '\./{template.name}'$", parameters.read_text(), re.MULTILINE)
    read = set(re.findall(r"jq -r '\.(\w+)\.value", DEPLOY.read_text(encoding="utf-8")))
    assert read == {"functionAppName", "keyVaultName", "defaultHostName"}
    declared = set(re.findall(r"^output (\w+) ", template.read_text(), re.MULTILINE))
    assert read <= declared


def _git(*args: str) -> str:
    done = subprocess.run(  # noqa: S603 - read-only git commands on this repository
        ["git", *args],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_the_staged_package_is_what_funcignore_keeps(tmp_path: Path) -> None:
    """Run deploy.yml's staging step: it packages the committed files less .funcignore's, by the
    rules tests/unit/test_package_contents.py reads (pathspec), with infra/leanix/ in it."""
    steps = _steps(_jobs(_load(DEPLOY.read_text(encoding="utf-8")))["deploy"])
    script = str(steps[_index(steps, "git archive")]["run"])
    subprocess.run(  # noqa: S603 - the workflow's own step, in a temporary RUNNER_TEMP
        ["bash", "-eo", "pipefail", "-c", script],  # noqa: S607
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "RUNNER_TEMP": str(tmp_path)},
        check=True,
        capture_output=True,
        timeout=120,
    )
    package = tmp_path / "package"
    staged = {p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()}
    spec = pathspec.GitIgnoreSpec.from_lines(_git("show", "HEAD:.funcignore").splitlines())
    committed = _git("ls-tree", "-r", "--name-only", "HEAD").splitlines()
    assert staged == {path for path in committed if not spec.match_file(path)}
    for needed in ("function_app.py", "host.json", "requirements.txt", "functions/relay.py"):
        assert needed in staged
    for read_at_run_time in ("webhooks.json", "notifications.json", "quality.json"):
        assert f"infra/leanix/{read_at_run_time}" in staged
    for kept_out in ("tests/", "lx_cli/", "lx_sandbox/", "infra/azure/", ".github/", "bench/"):
        assert not any(path.startswith(kept_out) for path in staged), kept_out
