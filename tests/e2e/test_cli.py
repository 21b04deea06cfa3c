"""The `lx` CLI against the sandbox: the demo, `up`, config plan/apply and the reconcile."""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from typer.testing import CliRunner

from lx_cli.main import app
from lx_sandbox.stack import ROOT, SandboxStack

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]
runner = CliRunner()
NO_SETTINGS = ["--settings", "/nonexistent/local.settings.json"]


def test_demo_runs_end_to_end_and_reports_counts() -> None:
    result = runner.invoke(app, [*NO_SETTINGS, "sandbox", "demo"])
    assert result.exit_code == 0, result.output
    assert "8/8 re-tagged" in result.output
    assert "TIME tags: before → after" in result.output
    assert "reconcile: failed" in result.output
    assert "Everything the demo started has stopped." in result.output
    assert _normalised(result.output) == _normalised(_readme_demo_block())


def _normalised(text: str) -> list[str]:
    """The demo's lines with what varies per run (ports, wall time, today's date and week)
    replaced."""
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"\b\d{4}-\d{2}-\d{2}\b", "YYYY-MM-DD", text)
    text = re.sub(r"\b\d{4}-W\d{2}\b", "YYYY-Www", text)
    text = re.sub(r"^[\d.]+ s in all", "T s in all", text, flags=re.MULTILINE)
    return [line.rstrip() for line in text.strip("\n").splitlines()]


def _readme_demo_block() -> str:
    """The fenced block after "What you will see" in README.md."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    after = readme[readme.index("What you will see") :]
    start = after.index("```\n") + 4
    return after[start : after.index("```", start)]


def test_up_prints_urls_and_stops_by_itself() -> None:
    result = runner.invoke(app, [*NO_SETTINGS, "sandbox", "up", "--for", "0.2"])
    assert result.exit_code == 0, result.output
    assert "LeanIX emulator : http://127.0.0.1:" in result.output
    assert "export LEANIX_HOST=" in result.output
    # The relay's channels: the sink (as Slack and Teams) and the SMTP server, wired and shown.
    sink = re.search(r"^chat sink       : (http://127\.0\.0\.1:\d+) ", result.output, re.M)
    smtp = re.search(r"^SMTP server     : smtp://127\.0\.0\.1:(\d+) ", result.output, re.M)
    assert sink is not None and smtp is not None, result.output
    secret = "    # sandbox-only secret"
    assert f"export LX_NOTIFY_SLACK_URL={sink[1]}/slack/ops{secret}" in result.output
    assert f"export LX_NOTIFY_TEAMS_URL={sink[1]}/teams/ops{secret}" in result.output
    assert f"export LX_SMTP_PORT={smtp[1]}\n" in result.output
    assert "export LX_SMTP_HOST=127.0.0.1\n" in result.output
    assert "export LX_SMTP_CA_FILE=" in result.output and "lx relay status" in result.output
    assert result.output.rstrip().endswith("stopped")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_up_serves_on_the_ports_asked_for() -> None:
    port, host_port = _free_port(), _free_port()
    args = ["sandbox", "up", "--port", str(port), "--host-port", str(host_port), "--for", "0.2"]
    result = runner.invoke(app, [*NO_SETTINGS, *args])
    assert result.exit_code == 0, result.output
    assert f"LeanIX emulator : http://127.0.0.1:{port} " in result.output
    assert f"functions host  : http://127.0.0.1:{host_port} " in result.output
    assert f"export LEANIX_HOST=http://127.0.0.1:{port}\n" in result.output
    assert f"export LX_FUNCTIONS_BASE_URL=http://127.0.0.1:{host_port}\n" in result.output
    for secret in ("LEANIX_API_TOKEN", "LX_WEBHOOK_AUTHORIZATION", "LX_FUNCTION_KEY"):
        line = next(x for x in result.output.splitlines() if f"export {secret}=" in x)
        assert line.endswith("# sandbox-only secret")


@pytest.mark.parametrize(
    ("option", "named"), [("--host-port", "functions host"), ("--port", "LeanIX emulator")]
)
def test_up_names_the_port_that_is_taken(option: str, named: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, [*NO_SETTINGS, "sandbox", "up", option, str(port)])
    assert result.exit_code == 2, result.output
    assert f"{named}: port {port} is already in use" in result.output
    assert option in result.output
    assert "Traceback" not in result.output


@contextmanager
def _up_process() -> Iterator[tuple[list[str], queue.Queue[str]]]:
    """`lx sandbox up` in its own process: its banner (up to the Ctrl-C line) and a queue of
    every later (activity) line; on exit, Ctrl-C must stop it cleanly."""
    argv = [str(Path(sys.prefix) / "bin" / "lx"), *NO_SETTINGS, "sandbox", "up"]
    proc = subprocess.Popen(  # noqa: S603 - fixed argv, our own CLI
        argv,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    later: queue.Queue[str] = queue.Queue()
    try:
        assert proc.stdout is not None
        banner = []
        for line in proc.stdout:
            banner.append(line.rstrip("\n"))
            if "Ctrl-C stops everything" in line:
                break
        else:
            pytest.fail("lx sandbox up ended early:\n" + "\n".join(banner))
        stdout = proc.stdout

        def pump() -> None:
            for line in stdout:
                later.put(line.rstrip("\n"))

        threading.Thread(target=pump, daemon=True).start()
        yield banner, later
        proc.send_signal(signal.SIGINT)  # Ctrl-C: everything stops, exit status 0
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def _wait_for_line(lines: queue.Queue[str], pattern: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        if re.search(pattern, line):
            return line
    pytest.fail(f"no line matching {pattern!r} in:\n" + "\n".join(seen))


@dataclass
class _Printed:
    """What `up` told the developer to run in another shell."""

    cwd: Path
    lx: Path
    exports: dict[str, str]
    commands: list[str]
    master_key: str

    @classmethod
    def parse(cls, banner: list[str]) -> _Printed:
        shell = [line.strip() for line in banner if line.startswith("  ")]
        cwd = Path(next(shlex.split(x)[1] for x in shell if x.startswith("cd ")))
        lx = next(re.findall(r"# or run (\S+)", x)[0] for x in shell if "# or run" in x)
        pairs = [shlex.split(x, comments=True)[1] for x in shell if x.startswith("export ")]
        master = next(re.findall(r"x-functions-key: (\S+)'", x)[0] for x in shell if "-key: " in x)
        return cls(
            cwd=cwd,
            lx=cwd / lx,
            exports=dict(pair.split("=", 1) for pair in pairs),
            commands=[x for x in shell if x.startswith("lx ")],
            master_key=master,
        )

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        """``command`` as printed, with exactly the printed environment (no file either)."""
        argv = [str(self.lx), *NO_SETTINGS, *shlex.split(command)[1:]]
        done = subprocess.run(  # noqa: S603 - fixed argv, our own CLI
            argv,
            cwd=self.cwd,
            env=self.exports,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"{command}:\n{done.stdout}{done.stderr}"
        return done


DELIVERY_LINE = (
    r"^\d\d:\d\d:\d\d\.\d{3} time_webhook  HTTP 200  status=\w+  "
    r"factSheetId=[0-9a-f-]{36}  \d+ ms"
)


def test_up_exports_are_all_another_shell_needs() -> None:
    with _up_process() as (banner, activity):
        printed = _Printed.parse(banner)
        assert {"LEANIX_HOST", "LEANIX_API_TOKEN", "LX_WEBHOOK_AUTHORIZATION"} <= set(
            printed.exports
        )
        assert {"LX_FUNCTIONS_BASE_URL", "LX_FUNCTION_KEY"} <= set(printed.exports)
        assert printed.commands[:2] == ["lx whoami", "lx time reconcile --dry-run"]
        for command in printed.commands:  # whoami, reconcile --dry-run, time tag <id>, plan
            done = printed.run(command)
        assert "lx-functions-time" in done.stdout and "unchanged" in done.stdout  # the plan

        # The up window shows deliveries and timer runs, one line each.
        printed.run("lx time reconcile")  # writes tags, so LeanIX pushes webhooks to the host
        _wait_for_line(activity, DELIVERY_LINE)
        fired = requests.post(
            f"{printed.exports['LX_FUNCTIONS_BASE_URL']}/admin/functions/time_reconcile",
            headers={"x-functions-key": printed.master_key},
            json={},
            timeout=10,
        )
        assert fired.status_code == 202
        _wait_for_line(activity, r" time_reconcile  timer ok  trigger=manual  \d+ ms$")


def test_config_apply_is_idempotent_and_reconcile_reports(stack: SandboxStack) -> None:
    env = {
        k: v
        for k, v in stack.subscription_env().items()
        if k.startswith(("LEANIX_", "LX_", "TIME_"))
    }
    plan = runner.invoke(app, [*NO_SETTINGS, "config", "plan"], env=env)
    assert plan.exit_code == 0, plan.output
    assert "lx-functions-time" in plan.output and "unchanged" in plan.output
    before = stack.admin("GET", "/stats")["requests"]
    applied = runner.invoke(app, [*NO_SETTINGS, "config", "apply"], env=env)
    assert applied.exit_code == 0, applied.output
    after = stack.admin("GET", "/stats")["requests"]
    writes = [
        k for k in after if k.startswith(("POST /services/webhooks", "PUT /services/webhooks"))
    ]
    assert all(after[k] == before.get(k, 0) for k in writes)

    dry = runner.invoke(app, [*NO_SETTINGS, "time", "reconcile", "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0, dry.output
    summary = json.loads(dry.output[dry.output.index("{") :])
    assert summary["dry_run"] is True and summary["examined"] == 50 and summary["changed"] > 0
    real = runner.invoke(app, [*NO_SETTINGS, "time", "reconcile", "--json"], env=env)
    assert real.exit_code == 0, real.output
    again = runner.invoke(app, [*NO_SETTINGS, "time", "reconcile", "--json"], env=env)
    assert json.loads(again.output[again.output.index("{") :])["changed"] == 0


def test_missing_setting_is_named_and_exits_nonzero(tmp_path: Path) -> None:
    env = {k: "" for k in os.environ if k.startswith(("LEANIX_", "TIME_", "LX_"))}
    result = runner.invoke(app, ["--settings", str(tmp_path / "none.json"), "whoami"], env=env)
    assert result.exit_code == 2
    assert "LEANIX_API_TOKEN" in result.output


def _cli_env(stack: SandboxStack) -> dict[str, str]:
    return {**stack.app_settings(), "LEANIX_REQUESTS_PER_MINUTE": "1800"}


def test_whoami_is_readable_and_has_json(stack: SandboxStack) -> None:
    env = _cli_env(stack)
    human = runner.invoke(app, [*NO_SETTINGS, "whoami"], env=env)
    assert human.exit_code == 0, human.output
    lines = human.output.splitlines()
    assert [line.split()[0] for line in lines] == ["workspace", "instance", "user", "token"]
    assert "{" not in human.output
    machine = runner.invoke(app, [*NO_SETTINGS, "whoami", "--json"], env=env)
    info = json.loads(machine.output)
    assert info["workspaceName"] and info["principalName"] and info["instanceUrl"]
    assert info["workspaceName"] in lines[0] and info["principalName"] in lines[2]


def test_dry_run_lists_what_would_change_and_says_so(stack: SandboxStack) -> None:
    env = _cli_env(stack)
    table = runner.invoke(app, [*NO_SETTINGS, "time", "reconcile", "--dry-run"], env=env)
    assert table.exit_code == 0, table.output
    assert "would change" in table.output and "dry run: nothing written" in table.output
    dry = runner.invoke(app, [*NO_SETTINGS, "time", "reconcile", "--dry-run", "--json"], env=env)
    summary = json.loads(dry.output[dry.output.index("{") :])
    assert len(summary["would_change"]) == summary["changed"] > 0
    first = summary["would_change"][0]
    assert set(first) == {"id", "name", "from", "to"} and first["name"] in table.output
    assert sum(summary["skipped_reasons"].values()) == summary["skipped"]
    # Nothing was written: a real run afterwards changes exactly what the dry run listed.
    real = runner.invoke(app, [*NO_SETTINGS, "time", "reconcile", "--json"], env=env)
    assert json.loads(real.output[real.output.index("{") :])["changed"] == summary["changed"]


@pytest.mark.parametrize(
    ("fs_type", "message"),
    [("Nonsense", "does not exist"), ("ITComponent", "has no functionalSuitability")],
)
def test_unknown_or_unfit_type_is_one_clear_line(
    stack: SandboxStack, fs_type: str, message: str
) -> None:
    result = runner.invoke(
        app, [*NO_SETTINGS, "time", "reconcile", "--type", fs_type], env=_cli_env(stack)
    )
    assert result.exit_code == 2
    (line,) = [x for x in result.output.splitlines() if x.strip()]
    assert line.startswith("error:") and message in line and fs_type in line


def test_a_reconcile_already_running_is_reported_busy(stack: SandboxStack) -> None:
    from lx_core import runtime
    from lx_core.state.lease import Lease

    store = runtime.state_store()
    assert store is not None
    key = runtime.time_reconcile_run().key
    other = Lease(store, "time-reconcile." + key, owner="timer-on-instance-7", duration=60)
    assert other.acquire()
    result = runner.invoke(app, [*NO_SETTINGS, "time", "reconcile"], env=_cli_env(stack))
    assert result.exit_code == 3
    assert "busy" in result.output and "timer-on-instance-7" in result.output
    other.release()


def test_a_malformed_settings_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "local.settings.json"
    bad.write_text('{"Values": {"LEANIX_HOST": "x",}}')
    result = runner.invoke(app, ["--settings", str(bad), "whoami"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert str(bad) in result.output and "not valid JSON" in result.output


def test_help_has_no_bool_placeholders_and_lists_settings() -> None:
    for args in (["--help"], ["time", "reconcile", "--help"], ["whoami", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "<bool>" not in result.output
    reconcile = runner.invoke(app, ["time", "reconcile", "--help"]).output
    assert "LEANIX_API_TOKEN" in reconcile and "LX_STATE_" in reconcile
