"""The Function App as the worker indexes it. `FunctionApp.get_functions()` may run only once per
app object, so every test shares this one index."""

from __future__ import annotations

import functools

from azure.functions.decorators.core import Trigger
from azure.functions.decorators.function_app import Function


@functools.cache
def indexed_functions() -> dict[str, Function]:
    import function_app

    return {str(f.get_function_name()): f for f in function_app.app.get_functions()}


def trigger_of(name: str) -> Trigger:
    trigger = indexed_functions()[name].get_trigger()
    assert trigger is not None
    return trigger
