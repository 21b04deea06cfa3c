"""A local SAP LeanIX emulator (MTM, Pathfinder GraphQL, Webhooks) for tests and demos.

It never imports ``lx_core`` or ``functions``: it is an independent reading of the API
reference, so the client is checked against something it did not write (a test enforces it).
"""

from lx_sandbox.emulator.config import SandboxConfig
from lx_sandbox.emulator.seed import HUMAN_TOKEN, TECHNICAL_TOKEN, generate_workspace, load_fixture
from lx_sandbox.emulator.server import SandboxServer

__all__ = [
    "HUMAN_TOKEN",
    "TECHNICAL_TOKEN",
    "SandboxConfig",
    "SandboxServer",
    "generate_workspace",
    "load_fixture",
]
