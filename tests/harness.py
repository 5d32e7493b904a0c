"""Running behave and the embedded stack from tests, without touching the developer's own evidence.

behave runs in a scratch directory with its own behave.ini, so its Allure results, JUnit files and
gate verdicts land there and not in the repository's allure-results/.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from citadel_acceptance.config.profile import load_profile
from citadel_acceptance.report import inventory
from citadel_acceptance.target import embedded as embedded_target
from citadel_stack import launcher
from citadel_stack.state import StackState

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class FailedStep:
    """The step a scenario stopped at: its type (given, when, then: an And takes its predecessor's) and its
    text as behave rendered it (an example row's values filled in)."""

    step_type: str
    name: str


@dataclass
class SuiteRun:
    """The outcome of one behave run: exit code, console, and each scenario's status and message."""

    returncode: int
    output: str
    scenarios: dict[str, tuple[str, str]]  # scenario name (without the example suffix) -> (status, error)
    results_dir: Path
    failed_steps: dict[str, FailedStep] = field(default_factory=dict)  # scenario name -> the step that failed

    def failed(self) -> dict[str, str]:
        """Scenarios that failed or errored, with their error messages."""
        return {name: error for name, (status, error) in self.scenarios.items() if status not in ("passed", "skipped")}

    def explain(self, tail: int = 2000) -> str:
        """For an assertion's message: each failed scenario with its error first, then the console's end."""
        failed = "\n".join(f"FAILED {name}: {error[:600]}" for name, error in self.failed().items())
        return f"exit {self.returncode}\n{failed or 'no scenario failed'}\n--- console, last {tail} characters ---\n" \
               f"{self.output[-tail:]}"

    def skipped(self) -> set[str]:
        """Scenarios that were skipped."""
        return {name for name, (status, _) in self.scenarios.items() if status == "skipped"}


def run_suite(scratch: Path, userdata: dict[str, str], paths: list[str] | None = None,
              env: dict[str, str] | None = None, timeout_s: int = 600, tags: str | None = None,
              names: str | None = None) -> SuiteRun:
    """Run behave on the repository's features (or `paths`) with `userdata`, results kept in `scratch`;
    `tags` a tag expression, `names` a regular expression on scenario names (behave -n), both optional."""
    scratch.mkdir(parents=True, exist_ok=True)
    results = scratch / "allure-results"
    userdata = {"reports_dir": str(scratch / "reports"), **userdata}
    ini = ["[behave]", f"paths = {REPO_ROOT / 'features'}", "format = json", "         allure_behave.formatter:AllureFormatter",
           f"outfiles = {scratch / 'behave.json'}", f"           {results}", "junit = false", "logging_level = WARNING",
           "", "[behave.userdata]"] + [f"{k} = {v}" for k, v in userdata.items()]
    (scratch / "behave.ini").write_text("\n".join(ini) + "\n")
    command = [sys.executable, "-m", "behave", "-f", "plain", *(["--tags", tags] if tags else []),
               *(["-n", names] if names else []),
               *(str(REPO_ROOT / p) for p in (paths or []))]
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})}
    done = subprocess.run(command, cwd=scratch, capture_output=True, text=True, timeout=timeout_s, env=environment)
    outcomes = _scenarios(scratch / "behave.json")
    return SuiteRun(done.returncode, done.stdout + done.stderr, {name: o[:2] for name, o in outcomes.items()}, results,
                    {name: o[2] for name, o in outcomes.items() if o[2] is not None})


def dry_run(tags: str | None) -> list[str]:
    """The scenario names (with their example suffix) behave would run with `tags`, without running anything."""
    features = inventory.dry_run(REPO_ROOT / "features", tags)
    assert features is not None, f"behave could not read the features (tags {tags!r})"
    return [element["name"] for feature in features for element in feature.get("elements", [])
            if element.get("type") == "scenario" and element.get("status") == "untested"]  # the others: not selected


def _scenarios(path: Path) -> dict[str, tuple[str, str, FailedStep | None]]:
    """Each scenario of behave's JSON: (status, the failed steps' errors, the first failed step or None)."""
    if not path.exists() or not path.read_text().strip():
        return {}
    outcomes: dict[str, tuple[str, str, FailedStep | None]] = {}
    for feature in json.loads(path.read_text()):
        for element in feature.get("elements", []):
            if element.get("type") != "scenario":
                continue
            failed = [step for step in element.get("steps", []) if step.get("result", {}).get("status") in ("failed", "error")]
            errors = [" ".join(step["result"].get("error_message", [])) if isinstance(step["result"].get("error_message"), list)
                      else str(step["result"].get("error_message", "")) for step in failed]
            first = FailedStep(failed[0].get("step_type", "?"), failed[0].get("name", "")) if failed else None
            outcomes[element["name"].split(" -- @")[0]] = (element.get("status", "?"), " ".join(errors), first)
    return outcomes


def all_text_under(directory: Path) -> str:
    """Every file below `directory` as text (for secret scans)."""
    return "\n".join(p.read_text(errors="replace") for p in directory.rglob("*") if p.is_file())


def stack_settings(faults: tuple[str, ...] = ()) -> launcher.StackSettings:
    """The embedded profile's stack with `faults` (one llama.cpp thread per model service, as the profile says:
    two services of two stacks each spinning two threads on two cores waited on each other's threads)."""
    profile = load_profile("embedded")
    return launcher.StackSettings.from_mapping(embedded_target.stack_settings(profile, faults))


@contextmanager
def embedded_stack(stack_dir: Path, faults: tuple[str, ...] = ()) -> Iterator[StackState]:
    """An embedded stack with the given faults for the duration of a test; always stopped afterwards."""
    settings = stack_settings(faults)
    try:
        state, _ = launcher.start_or_attach(stack_dir, settings)
        yield state
    finally:
        launcher.stop(stack_dir)


_SHARED: list[Path] = []  # this test process's shared stack (pytest-xdist: one per worker)


def shared_stack(faults: tuple[str, ...], fresh_monitoring: bool = False) -> StackState:
    """This process's shared embedded stack, its gateway (and Prometheus where needed) restarted with `faults`.

    A fault case whose faults are all the gateway's or Prometheus' needs no stack of its own: restarting those
    parts takes a fraction of a whole stack's start (launcher.refault; `fresh_monitoring` empties Prometheus'
    history for a case that reads it). The stack is stopped at the end of the session (stop_shared_stacks).
    """
    if not _SHARED:
        stack_dir = Path(tempfile.mkdtemp(prefix="citadel-shared-stack-"))
        launcher.start_or_attach(stack_dir, stack_settings())
        _SHARED.append(stack_dir)
    return launcher.refault(_SHARED[0], faults, fresh_monitoring)


def stop_shared_stacks() -> None:
    """Stop this process's shared stack, if it started one."""
    while _SHARED:
        stack_dir = _SHARED.pop()
        launcher.stop(stack_dir)
        shutil.rmtree(stack_dir, ignore_errors=True)


def stored_objects(state: StackState) -> dict[str, int]:
    """Rows of the keys and documents tables, documents' points, and suite-made request-log rows of a stack."""
    import psycopg
    from qdrant_client import QdrantClient

    with psycopg.connect(state.owner_dsn, connect_timeout=10) as conn:
        counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in ("api_keys", "documents")}
        counts["aged_rows"] = conn.execute("SELECT count(*) FROM request_log WHERE request_id LIKE 'suite-%-aged-%'").fetchone()[0]
    qdrant = QdrantClient(url=state.vector_url, api_key=state.vector_api_key, check_compatibility=False, https=False)
    try:
        collection = state.settings["vector_collection"]
        counts["points"] = qdrant.count(collection).count if qdrant.collection_exists(collection) else 0
    finally:
        qdrant.close()
    return counts
