"""CLI: ``python -m lx_sandbox.funchost --app function_app --port 7071 [--no-timers]``."""

from __future__ import annotations

import argparse
import logging
import sys

from lx_sandbox.funchost.limits import MAX_REQUEST_BODY_BYTES, REQUEST_TIMEOUT_S, HostLimits
from lx_sandbox.funchost.server import FunctionsHost


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lx_sandbox.funchost",
        description="Serve a v2 Azure Functions Python app locally (HTTP routes and timers).",
    )
    parser.add_argument("--app", default="function_app", help="app module name to import")
    parser.add_argument("--app-dir", default=None, help="directory put on sys.path (default: cwd)")
    parser.add_argument("--settings", default=None, help="local.settings.json path")
    parser.add_argument("--host-json", default=None, help="host.json path")
    parser.add_argument("--port", type=int, default=7071, help="port on 127.0.0.1 (0 = free port)")
    parser.add_argument("--function-key", default=None, help="default: $LX_LOCAL_FUNCTION_KEY")
    parser.add_argument("--master-key", default=None, help="default: $LX_LOCAL_MASTER_KEY")
    parser.add_argument("--no-timers", action="store_true", help="do not schedule timers")
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=MAX_REQUEST_BODY_BYTES,
        help="larger request bodies get 413 (default: Azure's 100 MiB)",
    )
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=REQUEST_TIMEOUT_S,
        help="seconds a client has to send a whole request, else 408 (default: %(default)s)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Print routes and keys, then serve in the foreground until Ctrl-C."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    host = FunctionsHost(
        args.app,
        app_dir=args.app_dir,
        settings_file=args.settings,
        host_json=args.host_json,
        function_key=args.function_key,
        master_key=args.master_key,
        port=args.port,
        run_timers=not args.no_timers,
        limits=HostLimits(
            max_body_bytes=args.max_body_bytes, request_timeout_s=args.request_timeout
        ),
    )
    host.start()
    print(f"Functions host on {host.url}")
    for methods, rule, name in host.routes:
        print(f"  {name}: [{','.join(methods)}] {host.url}{rule}")
    for name in host.timers:
        timer = host.index.timers[name]
        print(
            f"  {name}: timerTrigger '{timer.schedule.expression}' (POST /admin/functions/{name})"
        )
    for message in host.errors.values():
        print(f"  ERROR {message}", file=sys.stderr)
    print(f"Function key: {host.function_key}")
    print(f"Master key:   {host.master_key}")
    print("Ctrl-C to stop.", flush=True)
    try:
        host.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        host.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
