"""Function keys and auth levels, enforced as the Azure Functions host does.

ANONYMOUS needs nothing; FUNCTION accepts the function key or the master key; ADMIN (and the
``/admin`` API) accepts only the master key. The key comes from ``?code=`` or the
``x-functions-key`` header. Keeping this locally catches "works on my machine" webhooks that
forgot their key before they reach Azure.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

FUNCTION_KEY_ENV = "LX_LOCAL_FUNCTION_KEY"
MASTER_KEY_ENV = "LX_LOCAL_MASTER_KEY"
KEY_HEADER = "x-functions-key"
KEY_PARAM = "code"


@dataclass(frozen=True)
class Keys:
    """The local function key (valid for every FUNCTION-level route) and the master key."""

    function_key: str
    master_key: str
    generated: bool = False

    @classmethod
    def resolve(
        cls,
        function_key: str | None,
        master_key: str | None,
        environ: Mapping[str, str] | None = None,
    ) -> Keys:
        """Explicit value, else the environment, else a fresh random key."""
        env = os.environ if environ is None else environ
        fkey = function_key or env.get(FUNCTION_KEY_ENV) or None
        mkey = master_key or env.get(MASTER_KEY_ENV) or None
        generated = fkey is None or mkey is None
        return cls(
            function_key=fkey or secrets.token_urlsafe(24),
            master_key=mkey or secrets.token_urlsafe(24),
            generated=generated,
        )


def presented_key(header: str | None, code: str | None) -> str | None:
    """The key a caller sent: the ``x-functions-key`` header, else ``?code=``."""
    return header or code or None


def _matches(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode(), expected.encode())


def is_authorized(level: str, presented: str | None, keys: Keys) -> bool:
    """Whether ``presented`` satisfies ``level`` (``ANONYMOUS``, ``FUNCTION`` or ``ADMIN``)."""
    level = level.upper()
    if level == "ANONYMOUS":
        return True
    if not presented:
        return False
    if _matches(presented, keys.master_key):
        return True
    return level == "FUNCTION" and _matches(presented, keys.function_key)
