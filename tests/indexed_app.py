"""The Function App as the worker indexes it.

`FunctionApp.get_functions()` may run only once per app object, and the local functions host
(e2e tests) imports and indexes `function_app` too. So the tests load their own private copy of
function_app.py under another module name and index it exactly once per process.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from azure.functions.decorators.core import Trigger
from azure.functions.decorators.function_app import Function

_APP_FILE = Path(__file__).resolve().parent.parent / "function_app.py"


@functools.cache
def indexed_functions() -> dict[str, Function]:
    spec = importlib.util.spec_from_file_location("_tests_indexed_function_app", _APP_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {str(f.get_function_name()): f for f in module.app.get_functions()}


def trigger_of(name: str) -> Trigger:
    trigger = indexed_functions()[name].get_trigger()
    assert trigger is not None
    return trigger
