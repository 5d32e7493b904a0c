"""The embedded stack: start, attach instead of starting twice, stop everything, keep secrets private."""
from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from citadel_acceptance.config.profile import load_profile
from citadel_acceptance.target import embedded as embedded_target
from citadel_stack import launcher, postgres, supervisor
from citadel_stack.state import StackState
from tests.harness import REPO_ROOT

pytestmark = pytest.mark.slow


def settings(faults: tuple[str, ...] = ()) -> launcher.StackSettings:
    profile = load_profile("embedded")
    return launcher.StackSettings.from_mapping(embedded_target.stack_settings(profile, faults))


def test_start_attach_stop(tmp_path):
    stack_dir = tmp_path / "stack"
    state, started = launcher.start_or_attach(stack_dir, settings())  # how long it takes: docs/measurements.md
    try:
        assert started
        assert httpx.get(f"{state.gateway_url}/health", timeout=5).json()["status"] == "healthy"
        mode = stat.S_IMODE((stack_dir / "state.json").stat().st_mode)
        assert mode == 0o600, f"the state file holds secrets and must be private, mode is {oct(mode)}"
        assert stat.S_IMODE((stack_dir / "gateway.json").stat().st_mode) == 0o600
        again, started_again = launcher.start_or_attach(stack_dir, settings())
        assert not started_again and again.gateway_url == state.gateway_url
        with pytest.raises(launcher.StackError, match="already runs"):
            launcher.start_or_attach(stack_dir, settings(("no_done_marker",)))
        assert set(launcher.status(stack_dir).values()) == {"running"}
        for part in (p for p in state.processes if p.startswith("model_service:")):
            argv = Path(f"/proc/{state.process(part).pid}/cmdline").read_text().split("\0")
            threads = {argv[argv.index(flag) + 1] for flag in ("--n_threads", "--n_threads_batch")}
            assert threads == {"1"}, f"{part}: one llama.cpp thread for answers and prompts, as the profile says"
    finally:
        assert launcher.stop(stack_dir)
    assert not postgres.is_running(Path(state.pg_data_dir)) and not Path(state.pg_data_dir).exists()
    assert all(not state.process(part).alive() for part in state.processes)
    assert StackState.load(stack_dir) is None and launcher.status(stack_dir) == {}


def test_a_stopped_part_comes_back_on_its_port(tmp_path):
    stack_dir = tmp_path / "stack"
    state, _ = launcher.start_or_attach(stack_dir, settings())
    try:
        url = state.service_urls["smollm2"]
        launcher.stop_part(stack_dir, "model_service:smollm2")
        assert launcher.status(stack_dir)["model_service:smollm2"] == "stopped"
        assert launcher.attach(stack_dir) is None  # a partly stopped stack is not attached to
        launcher.start_part(stack_dir, "model_service:smollm2")
        assert httpx.get(f"{url}/v1/models", timeout=5).status_code == 200
        # a crash held down (fault model_crash_every) is left to the fault: the supervisor does not restart it
        assert launcher.kill_part(stack_dir, "model_service:smollm2", hold=True)
        log = tmp_path / "supervisor.jsonl"
        assert supervisor.supervise_once(stack_dir, log) == [] and not log.exists()
        assert launcher.status(stack_dir)["model_service:smollm2"] == "stopped"
        assert not launcher.kill_part(stack_dir, "model_service:smollm2", hold=True)  # nothing runs to crash
        launcher.start_part(stack_dir, "model_service:smollm2")
        assert httpx.get(f"{url}/v1/models", timeout=5).status_code == 200
    finally:
        launcher.stop(stack_dir)


def test_command_line_never_prints_secrets(tmp_path):
    stack_dir = tmp_path / "stack"
    cli = [sys.executable, "-m", "citadel_stack"]
    try:
        out = subprocess.run([sys.executable, "-m", "citadel_acceptance.cli.stack", "start", "--dir", str(stack_dir)],
                             cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        state = StackState.load(stack_dir)
        status = subprocess.run(cli + ["status", "--dir", str(stack_dir)], cwd=REPO_ROOT, capture_output=True, text=True)
        printed = out.stdout + out.stderr + status.stdout + status.stderr
        assert "gateway" in status.stdout and status.returncode == 0
        for secret in (state.admin_key, state.database_dsn, state.owner_dsn):
            assert secret not in printed
    finally:
        subprocess.run(cli + ["stop", "--dir", str(stack_dir)], cwd=REPO_ROOT, capture_output=True, timeout=60)


def test_unknown_fault_is_refused_before_anything_starts(tmp_path):
    with pytest.raises(ValueError, match="unknown fault.*known faults: accept_unknown_key"):
        launcher.start_or_attach(tmp_path / "stack", settings(("no_such_fault",)))
    assert StackState.load(tmp_path / "stack") is None


def test_stack_command_line_needs_settings_and_names_the_suites_command(tmp_path):
    out = subprocess.run([sys.executable, "-m", "citadel_stack", "start", "--dir", str(tmp_path / "stack")],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "--settings" in out.stderr and "make stack-start" in out.stderr
    assert "Traceback" not in out.stderr


def test_settings_mapping_refuses_unknown_keys():
    with pytest.raises(ValueError, match="unknown stack setting"):
        launcher.StackSettings.from_mapping({"routes": {"phi3": "smollm2"}, "no_such_setting": 1})
