"""What `.funcignore` puts into the deployed package: the LeanIX-side files the app reads at run
time are in it; tests, tools, Bicep and the examples are not."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pathspec

ROOT = Path(__file__).resolve().parents[2]


def _spec() -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines((ROOT / ".funcignore").read_text().splitlines())


def _packaged() -> set[str]:
    spec = _spec()
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return {path for path in tracked if not spec.match_file(path)}


def test_runtime_leanix_files_are_packaged() -> None:
    packaged = _packaged()
    assert "function_app.py" in packaged
    assert "host.json" in packaged
    assert "requirements.txt" in packaged
    assert any(p.startswith("lx_core/integration/") for p in packaged)
    assert "infra/leanix/webhooks.json" in packaged
    assert "infra/leanix/callbacks/time_filter.js" in packaged
    spec = _spec()
    for future in ("infra/leanix/connectors/new.json", "infra/leanix/processors/new.json"):
        assert not spec.match_file(future), future
    for folder in ("infra/leanix/connectors", "infra/leanix/processors"):
        for file in (ROOT / folder).glob("*.json"):
            assert file.relative_to(ROOT).as_posix() in packaged


def test_tools_tests_bicep_and_examples_stay_out() -> None:
    packaged = _packaged()
    for prefix in (
        "tests/",
        "lx_sandbox/",
        "lx_cli/",
        "bench/",
        "infra/azure/",
        "infra/leanix/examples/",
        ".ci/",
    ):
        assert not any(p.startswith(prefix) for p in packaged), prefix
