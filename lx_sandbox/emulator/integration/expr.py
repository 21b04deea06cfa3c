"""Evaluating processor expressions through the JUEL subset, with every failure turned into
:class:`ExprError` so the engine can report it as a run warning instead of crashing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lx_sandbox.emulator.integration.juel import Juel, JuelError, as_string


class ExprError(Exception):
    """An expression could not be compiled or evaluated; the message names it."""


def _expr_text(spec: Any) -> Any:
    """``{"expr": "..."}`` or a bare value -> the expression (or literal) it holds."""
    if isinstance(spec, Mapping):
        return spec.get("expr")
    return spec


def render(spec: Any, ctx: Mapping[str, Any]) -> Any:
    """The value of an expression (``${a}`` alone keeps its type); literals pass through."""
    text = _expr_text(spec)
    if not isinstance(text, str):
        return text
    try:
        return Juel.compile(text).render(ctx)
    except JuelError as exc:
        raise ExprError(f"Expression {text!r}: {exc}") from exc
    except Exception as exc:  # whatever goes wrong in an expression is a warning, never a crash
        raise ExprError(f"Expression {text!r} failed: {type(exc).__name__}: {exc}") from exc


def truthy(spec: Any, ctx: Mapping[str, Any]) -> bool:
    """A boolean expression (``filter.advanced``, ``onRead``, search filters)."""
    text = _expr_text(spec)
    if isinstance(text, bool):
        return text
    if not isinstance(text, str):
        raise ExprError(f"Expression {text!r} is not a string")
    try:
        return Juel.compile(text).truthy(ctx)
    except JuelError as exc:
        raise ExprError(f"Expression {text!r}: {exc}") from exc
    except Exception as exc:  # whatever goes wrong in an expression is a warning, never a crash
        raise ExprError(f"Expression {text!r} failed: {type(exc).__name__}: {exc}") from exc


def as_text(value: Any) -> str | None:
    """A rendered value as the string a field receives (None/"" = no value)."""
    if value is None:
        return None
    text = value if isinstance(value, str) else as_string(value)
    return text if text != "" else None
