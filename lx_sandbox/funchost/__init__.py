"""A small local Azure Functions host for v2 (decorator) Python apps.

Core Tools cannot be installed in this environment, so this serves any ``function_app``'s HTTP
routes (with route prefix, methods and key auth) and fires its timers (NCRONTAB, on startup
and via the admin API), under Azure's request limits (``HostLimits``). See ``FunctionsHost``
and ``python -m lx_sandbox.funchost --help``.
"""

from lx_sandbox.funchost.limits import HostLimits
from lx_sandbox.funchost.listen import PortInUseError
from lx_sandbox.funchost.server import FunctionsHost
from lx_sandbox.funchost.timers import InvocationRecord

__all__ = ["FunctionsHost", "HostLimits", "InvocationRecord", "PortInUseError"]
