"""The handlers by name: specs validated once, implementations imported on first use."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from lx_core.errors import ConfigurationError
from lx_core.handlers.base import Handler
from lx_core.handlers.specs import SPECS, HandlerSpec, spec_named, validate_specs


def handler_class(spec: HandlerSpec) -> type[Handler]:
    """The class ``spec.impl`` names; ConfigurationError if it is missing or disagrees."""
    module_name, _, attr = spec.impl.partition(":")
    cls = getattr(importlib.import_module(module_name), attr, None)
    if not (isinstance(cls, type) and issubclass(cls, Handler)):
        raise ConfigurationError(f"handler {spec.name}: {spec.impl} is not a Handler")
    if cls.spec != spec:
        raise ConfigurationError(f"handler {spec.name}: {spec.impl} declares another spec")
    return cls


def build_handler(name: str, specs: Sequence[HandlerSpec] = SPECS) -> Handler:
    """A ready handler over the process's client, settings and stores."""
    cls = handler_class(spec_named(name, validate_specs(specs)))
    builder = getattr(cls, "build", None)
    if builder is None:
        raise ConfigurationError(f"handler {name}: {cls.__name__} has no build()")
    handler = builder()
    if not isinstance(handler, Handler):
        raise ConfigurationError(f"handler {name}: build() returned no Handler")
    return handler
