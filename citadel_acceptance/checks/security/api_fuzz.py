"""Schemathesis against the gateway's OpenAPI document: generated requests, no server error, no skipped authentication.

Schemathesis runs as a child process (its CLI is its stable interface) with a configuration file written for
this run: the key goes into that file (mode 0600, removed afterwards), never onto a command line that `ps`
would show. Chat completions get only invalid generated bodies: valid ones would make the model write up to
the token cap for every example, and the functional scenarios already prove valid chats.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from citadel_acceptance.config.security import FuzzSettings

SERVER_ERROR, IGNORED_AUTH = "ST101", "ST401"
CHECKS = "not_a_server_error,ignored_auth"


@dataclass
class FuzzReport:
    """What one Schemathesis run found, read from its JSON report."""

    exit_code: int
    console: str
    report: dict[str, Any] = field(default_factory=dict)
    junit: str = ""

    def failures(self, code: str) -> list[str]:
        """The operations with a failure of one kind (ST101 server error, ST401 authentication ignored)."""
        return sorted({op for failure in self.report.get("failures", []) if failure.get("code") == code
                       for op in failure.get("operations", [])})

    def failure_count(self, code: str) -> int:
        """How many distinct failures of one kind Schemathesis reported."""
        return sum(int(f.get("count", 1)) for f in self.report.get("failures", []) if f.get("code") == code)

    def run_problems(self) -> list[str]:
        """Why the run itself says nothing (no report, nothing tested, errors); none when it completed."""
        if not self.report:
            return [f"Schemathesis wrote no report (exit {self.exit_code}): {self.console.strip()[-400:]}"]
        problems = []
        tested = int(self.report.get("operations", {}).get("tested", 0))
        if tested == 0:
            problems.append("Schemathesis tested no operation of the OpenAPI document")
        errors = self.report.get("errors") or []
        if errors:
            problems.append(f"{len(errors)} generated request(s) could not be completed: "
                            + "; ".join(str(e.get("title") or e)[:120] for e in errors[:3]))
        if not self.report.get("complete", False):
            problems.append(f"the run did not complete ({self.report.get('stop_reason')})")
        return problems

    def summary(self) -> dict[str, Any]:
        """Counts for the evidence: operations, cases, failures by kind, warnings."""
        return {"operations": self.report.get("operations", {}), "test_cases": self.report.get("test_cases", {}),
                "failures": self.report.get("failures", []), "warnings": {k: v for k, v in
                                                                          self.report.get("warnings", {}).items() if v},
                "seed": self.report.get("seed"), "running_time_s": self.report.get("running_time")}


def config_text(authorization: str, settings: FuzzSettings) -> str:
    """A schemathesis.toml for one run: the Authorization header and the negative-only operations."""
    lines = ["[headers]", f"Authorization = {json.dumps(authorization)}", ""]
    for path in settings.negative_only:
        lines += ["[[operations]]", f"include-path = {json.dumps(path)}", 'generation.mode = "negative"', ""]
    return "\n".join(lines)


def run_schemathesis(openapi_url: str, authorization: str, settings: FuzzSettings, tls_verify: str | None = None) -> FuzzReport:
    """Run Schemathesis against `openapi_url` with `authorization`; the JSON and JUnit reports are read back."""
    with tempfile.TemporaryDirectory(prefix="citadel-fuzz-") as scratch:
        config = Path(scratch) / "schemathesis.toml"
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(config_text(authorization, settings))
        report_json, report_junit = Path(scratch) / "report.json", Path(scratch) / "junit.xml"
        argv = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "--no-color", "run", openapi_url,
                "--checks", CHECKS, "--max-examples", str(settings.max_examples), "--seed", str(settings.seed),
                "--phases", settings.phases, "--report", "json,junit", "--report-json-path", str(report_json),
                "--report-junit-path", str(report_junit), "--request-timeout", "60"]
        if tls_verify:  # a CA bundle's path, or "false"
            argv += ["--tls-verify", tls_verify]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=settings.timeout_s, cwd=scratch)
            exit_code, console = done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as exc:
            exit_code, console = -1, f"Schemathesis did not finish within {settings.timeout_s:.0f} s: {exc.stdout or ''}"
        report = json.loads(report_json.read_text()) if report_json.exists() else {}
        junit = report_junit.read_text() if report_junit.exists() else ""
    return FuzzReport(exit_code=exit_code, console=console, report=report, junit=junit)


def undeclared_security(openapi: Mapping[str, Any], public_paths: set[str]) -> list[str]:
    """Protected operations whose OpenAPI entry declares no security requirement (then no tool can check them)."""
    global_security = openapi.get("security")
    missing = []
    for path, operations in openapi.get("paths", {}).items():
        if path in public_paths:
            continue
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            if not operation.get("security", global_security):
                missing.append(f"{method.upper()} {path}")
    return missing
