"""The emulator's Integration API: configurations, synchronization runs and a processor engine.

It follows ``leanix-api.md`` §5 and ``integration-api-processors.md`` §1 (never ``lx_core``): the
run lifecycle is driven by time, the engine applies inbound processors to the workspace (or
builds outbound results), and a finished run emits the run-statistics webhook event.
"""
