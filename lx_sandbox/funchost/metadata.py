"""``GET /admin/functions``: the indexed functions, listed as the Azure Functions host lists them.

The real host answers its admin ``functions`` API with one ``FunctionMetadataResponse`` per
function (``name``, ``href``, ``invoke_url_template`` for HTTP functions, ``language``,
``config.bindings``, ``isDisabled``). The local host gives the same fields for what it loaded,
so a deploy check written against the listing (``python -m lx_cli.smoke``) can be run here first.
A function that failed to load is not listed: on Azure it does not run either.
"""

from __future__ import annotations

from typing import Any

from lx_sandbox.funchost.routes import AppIndex

LANGUAGE = "python"


def list_functions(index: AppIndex, base_url: str) -> list[dict[str, Any]]:
    """One entry per loaded or disabled function of ``index``, sorted by name.

    ``base_url`` (scheme and authority, no trailing slash) prefixes ``href`` and the HTTP
    functions' ``invoke_url_template``, as the real host does with its own host name.
    """
    entries: dict[str, dict[str, Any]] = {}
    for route in index.routes:
        entry = _entry(route.spec.name, base_url, dict(route.spec.trigger), disabled=False)
        entry["invoke_url_template"] = base_url + route.rules[0]
        entries[route.spec.name] = entry
    for name, timer in index.timers.items():
        entries[name] = _entry(name, base_url, dict(timer.spec.trigger), disabled=False)
    for name in index.disabled:
        entries[name] = _entry(name, base_url, None, disabled=True)
    return [entries[name] for name in sorted(entries)]


def _entry(
    name: str, base_url: str, trigger: dict[str, Any] | None, *, disabled: bool
) -> dict[str, Any]:
    return {
        "name": name,
        "href": f"{base_url}/admin/functions/{name}",
        "language": LANGUAGE,
        "config": {"bindings": [trigger] if trigger is not None else []},
        "isDisabled": disabled,
    }
