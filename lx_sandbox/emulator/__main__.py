"""``python -m lx_sandbox.emulator``: run the emulator in the foreground and print its URL."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from lx_sandbox.emulator.config import SandboxConfig
from lx_sandbox.emulator.server import SandboxServer


def parse_args(argv: list[str] | None = None) -> SandboxConfig:
    """CLI flags -> :class:`SandboxConfig`."""
    p = argparse.ArgumentParser(prog="python -m lx_sandbox.emulator", description=__doc__)
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)")
    p.add_argument("--https", action="store_true", help="serve HTTPS with a self-signed cert")
    p.add_argument("--cert-file", type=Path, help="where to write the certificate (PEM)")
    p.add_argument("--seed", default="demo", help="demo | empty | generated:N")
    p.add_argument("--generated-seed", type=int, default=42, help="RNG seed for generated:N")
    p.add_argument("--token-lifetime", type=float, default=3600.0, help="seconds")
    p.add_argument("--max-page-size", type=int, default=10000)
    p.add_argument("--latency-ms", type=int, default=0, help="added to every service request")
    p.add_argument(
        "--rate-limit", type=int, default=1800, help="requests per window per user (0 = off)"
    )
    p.add_argument("--rate-limit-window", type=float, default=60.0, help="seconds")
    p.add_argument("--cursor-ttl", type=float, default=None, help="seconds a cursor stays valid")
    p.add_argument(
        "--reject-double-slash", action="store_true", help="answer 404 to //services/... URLs"
    )
    p.add_argument("--log-level", default="warning")
    a = p.parse_args(argv)
    return SandboxConfig(
        port=a.port,
        https=a.https,
        cert_file=a.cert_file,
        seed=a.seed,
        generated_seed=a.generated_seed,
        token_lifetime_seconds=a.token_lifetime,
        max_page_size=a.max_page_size,
        faults={"latencyMs": a.latency_ms} if a.latency_ms else {},
        rate_limit_enabled=a.rate_limit > 0,
        rate_limit=max(a.rate_limit, 1),
        rate_limit_window_seconds=a.rate_limit_window,
        cursor_ttl_seconds=a.cursor_ttl,
        accept_double_slash=not a.reject_double_slash,
        log_level=a.log_level,
    )


def main(argv: list[str] | None = None) -> int:
    """Start, print the URL (and cert file), wait for Ctrl-C or SIGTERM, stop."""
    config = parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with SandboxServer(config) as server:
        print(server.url, flush=True)
        if server.cert_file is not None:
            print(f"certificate: {server.cert_file}", file=sys.stderr, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
