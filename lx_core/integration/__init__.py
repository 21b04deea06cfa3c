"""The Integration API capability: LDIF and processor models, connectors as code, sources.

Models and file loading live here; pure decisions (lint, plan, run policy) in
``lx_core.decisions``; the HTTP client in ``lx_core.leanix.integration_api``; the run state
machine in ``lx_core.jobs``.
"""
