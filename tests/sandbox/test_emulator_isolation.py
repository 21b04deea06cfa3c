"""The emulator and the sink must never import the client under test (lx_core / functions)."""

from __future__ import annotations

import ast
from pathlib import Path

import lx_sandbox

SANDBOX = Path(lx_sandbox.__file__).resolve().parent
FORBIDDEN = ("lx_core", "functions", "function_app")


def _modules() -> list[Path]:
    files = sorted((SANDBOX / "emulator").rglob("*.py"))
    files.append(SANDBOX / "sink.py")
    return files


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                names.append("." * node.level + (node.module or ""))
            else:
                names.append(node.module or "")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", ""))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.append(str(node.args[0].value))
    return names


def test_there_are_modules_to_check() -> None:
    assert len(_modules()) > 10


def test_no_module_imports_the_client_or_functions() -> None:
    offenders = [
        f"{path.relative_to(SANDBOX)}: {name}"
        for path in _modules()
        for name in _imports(path)
        if name.split(".")[0] in FORBIDDEN or name.startswith("..")
    ]
    assert offenders == []


def test_the_checker_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import lx_core.leanix\nfrom functions import x\nimportlib.import_module('lx_core')\n"
    )
    assert _imports(bad) == ["lx_core.leanix", "functions", "lx_core"]
