"""checkov security policy gate for infra/azure.

checkov pins pycep-parser 0.5.1 while the project uses 0.7.1, so it lives in its own venv,
``.venv-checkov`` at the repo root (git-ignored by ``.venv-*/``), created here on first use.

checkov exits 0 when a file does not parse and simply scans nothing, so the gate reads the JSON
summary: ``parsing_errors == 0``, ``failed == 0`` and ``passed > 0`` (a silently skipped file
would pass nothing). Deliberate skips live in ``.checkov.yaml`` (global, each with a reason) or
inline in the Bicep (``// checkov:skip=ID: reason``, for a false positive on one resource).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# First run creates the venv (pip install ~30-60 s); later runs take a few seconds.
pytestmark = pytest.mark.timeout(900)

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infra" / "azure"
CHECKOV_CONFIG = REPO_ROOT / ".checkov.yaml"
CHECKOV_VENV = REPO_ROOT / ".venv-checkov"
CHECKOV_BIN = CHECKOV_VENV / "bin" / "checkov"
CHECKOV_VERSION = "3.3.30"

# Checks that must have PASSED on main.bicep: proves checkov really evaluated the resources
# that matter, not just some of them.
KEY_PASSED_CHECKS = {
    "CKV_AZURE_3",  # storage: https only
    "CKV_AZURE_44",  # storage: TLS 1.2
    "CKV_AZURE_34",  # blob container: private
    "CKV_AZURE_42",  # key vault: recoverable
    "CKV_AZURE_110",  # key vault: purge protection
    "CKV_AZURE_70",  # function app: https only
    "CKV_AZURE_78",  # function app: FTP disabled
    "CKV_AZURE_145",  # function app: TLS 1.2
    "CKV_AZURE_71",  # function app: managed identity
}

_NETWORK_ERRORS = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name "
    r"resolution|Name or service not known|Network is unreachable|ProxyError|"
    r"Connection refused|Read timed out|ConnectTimeoutError|"
    # The pinned version exists on PyPI, so "no versions at all" means no index was reached.
    r"\(from versions: none\)",
    re.IGNORECASE,
)

Json = dict[str, Any]


def _run(cmd: list[str], timeout: float, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed argv, no shell
        cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def _installed_version() -> str | None:
    if not CHECKOV_BIN.exists():
        return None
    result = _run([str(CHECKOV_BIN), "--version"], timeout=120)
    return result.stdout.strip() if result.returncode == 0 else None


def _ensure_checkov() -> Path:
    if _installed_version() == CHECKOV_VERSION:
        return CHECKOV_BIN
    steps = [
        [sys.executable, "-m", "venv", str(CHECKOV_VENV)],
        [str(CHECKOV_VENV / "bin" / "python"), "-m", "pip", "install", "-q",
         f"checkov=={CHECKOV_VERSION}"],
    ]  # fmt: skip
    for step in steps:
        result = _run(step, timeout=600)
        if result.returncode != 0:
            output = result.stdout + result.stderr
            if _NETWORK_ERRORS.search(output) and not os.environ.get("CI"):
                pytest.skip(f"PyPI unreachable, cannot install checkov=={CHECKOV_VERSION}")
            pytest.fail(f"{' '.join(step)} failed:\n{output[-4000:]}", pytrace=False)
    version = _installed_version()
    assert version == CHECKOV_VERSION, f"installed checkov reports {version!r}"
    return CHECKOV_BIN


@pytest.fixture(scope="session")
def checkov() -> Path:
    return _ensure_checkov()


def run_checkov(
    checkov: Path, directory: Path, *, config: Path = CHECKOV_CONFIG, cwd: Path = REPO_ROOT
) -> Json:
    """Run checkov on ``directory`` and return its JSON report (one framework: bicep).

    ``--quiet`` is left out on purpose: it only trims passed/skipped checks from the JSON lists,
    which the tests below read.
    """
    cmd = [str(checkov), "-d", str(directory), "--framework", "bicep", "--skip-download"]
    cmd += ["--config-file", str(config), "-o", "json"]
    result = _run(cmd, timeout=300, cwd=cwd)
    # Exit code 1 means failed checks; anything else is checkov itself failing.
    assert result.returncode in (0, 1), f"checkov exited {result.returncode}:\n{result.stderr}"
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"checkov printed no JSON ({exc}):\n{result.stdout[:2000]}", pytrace=False)
    if isinstance(report, list):  # one entry per framework
        reports = [r for r in report if r.get("check_type") == "bicep"]
        assert len(reports) == 1, f"expected one bicep report, got {report}"
        report = reports[0]
    assert isinstance(report, dict)
    if "summary" not in report:  # nothing was scanned: checkov prints the bare summary
        report = {"check_type": "bicep", "results": {}, "summary": report}
    return report


def gate_problems(report: Json) -> list[str]:
    """Why this report must fail the policy gate (empty: it passes)."""
    summary = report["summary"]
    problems = []
    if summary["parsing_errors"]:
        problems.append(f"{summary['parsing_errors']} file(s) could not be parsed")
    for check in report["results"].get("failed_checks", []):
        problems.append(
            f"{check.get('check_id')} {check.get('check_name')!r} failed for "
            f"{check.get('resource')} ({check.get('file_path')}:{check.get('file_line_range')})"
        )
    if summary["failed"] and not report["results"].get("failed_checks"):
        problems.append(f"{summary['failed']} failed check(s)")
    if summary["passed"] == 0:
        problems.append("no check passed: the templates were not scanned")
    return problems


@pytest.fixture(scope="session")
def report(checkov: Path) -> Json:
    return run_checkov(checkov, INFRA_DIR)


def _configured_skips() -> list[str]:
    return re.findall(r"^\s*-\s*(CKV2?_[A-Z]+_\d+)\b", CHECKOV_CONFIG.read_text(), re.MULTILINE)


def test_policy_gate_passes(report: Json) -> None:
    problems = gate_problems(report)
    assert not problems, "checkov policy gate:\n" + "\n".join(problems)


def test_key_checks_were_evaluated(report: Json) -> None:
    summary = report["summary"]
    assert summary["resource_count"] >= 10, summary
    passed = {c["check_id"] for c in report["results"]["passed_checks"]}
    missing = KEY_PASSED_CHECKS - passed
    assert not missing, f"expected checks did not pass (or did not run): {sorted(missing)}"


# Storage checks that must pass for EVERY storage account (host and data), not just one.
STORAGE_CHECKS = {"CKV_AZURE_3", "CKV_AZURE_44"}  # https only, TLS 1.2
STORAGE_ACCOUNT_PREFIX = "Microsoft.Storage/storageAccounts."


def test_storage_checks_pass_for_every_account(report: Json) -> None:
    results = report["results"]
    accounts = {
        c["resource"]
        for key in ("passed_checks", "failed_checks", "skipped_checks")
        for c in results.get(key, [])
        if c["resource"].startswith(STORAGE_ACCOUNT_PREFIX)
    }
    assert len(accounts) == 2, f"expected the host and the data account, checkov saw {accounts}"
    for check_id in sorted(STORAGE_CHECKS):
        passed = {
            c["resource"] for c in results["passed_checks"] if c["check_id"] == check_id
        } & accounts
        assert passed == accounts, f"{check_id} did not pass for {sorted(accounts - passed)}"


def test_inline_suppressions_have_reasons(report: Json) -> None:
    for check in report["results"].get("skipped_checks", []):
        comment = (check.get("check_result") or {}).get("suppress_comment", "")
        assert len(comment.strip()) >= 20 and comment != "No comment provided", (
            f"{check['check_id']} on {check['resource']} is skipped without a reason"
        )


def test_checkov_yaml_skips_have_reasons_and_are_needed(checkov: Path, tmp_path: Path) -> None:
    lines = CHECKOV_CONFIG.read_text().splitlines()
    skips = _configured_skips()
    assert skips, ".checkov.yaml lists no skip-check entries"
    assert len(skips) == len(set(skips)), "duplicate skip-check entries"
    for i, line in enumerate(lines):
        if re.match(r"^\s*-\s*CKV", line):
            above = lines[i - 1].strip()
            assert above.startswith("#") and len(above) > 20, f"no reason above {line.strip()!r}"

    # A skip that no longer matches a failure hides nothing and must be removed. checkov also
    # reads .checkov.yaml from the working directory, so run elsewhere with a config of no skips.
    no_skips = tmp_path / "no-skips.yaml"
    no_skips.write_text("compact: true\n", encoding="utf-8")
    unconfigured = run_checkov(checkov, INFRA_DIR, config=no_skips, cwd=tmp_path)
    failing = {c["check_id"] for c in unconfigured["results"].get("failed_checks", [])}
    stale = set(skips) - failing
    assert not stale, f"skips in .checkov.yaml that nothing fails any more: {sorted(stale)}"


def test_gate_fails_on_unparsable_bicep(checkov: Path, tmp_path: Path) -> None:
    (tmp_path / "broken.bicep").write_text(
        "resource sa 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n"
        "  name: 'stbroken'\n"
        "  properties: {\n"
        "    minimumTlsVersion: 'TLS1_2'\n"
        "  \n"
        "}\n"
        "param = =\n",
        encoding="utf-8",
    )
    report = run_checkov(checkov, tmp_path)
    assert report["summary"]["parsing_errors"] >= 1, report["summary"]
    problems = gate_problems(report)
    assert any("could not be parsed" in p for p in problems), problems
