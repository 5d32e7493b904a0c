"""The spec and its wiring: every step defined, the plan's numbers consistent, CI running the README's command."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from citadel_acceptance.config.profile import load_profile
from tests.harness import REPO_ROOT

FEATURES = REPO_ROOT / "features"
STEPS = REPO_ROOT / "steps"


def test_behave_dry_run_finds_every_step():
    done = subprocess.run([sys.executable, "-m", "behave", "--dry-run", "-f", "null", "--no-summary", "--no-junit"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "undefined" not in done.stdout.lower()


def test_behave_finds_the_root_environment_and_steps():
    assert not (FEATURES / "environment.py").exists() and not (FEATURES / "steps").exists()
    assert not any("Rule:" in f.read_text() for f in FEATURES.rglob("*.feature")), "allure-behave drops Rule: scenarios"


def test_every_feature_names_its_criterion_and_severity():
    for feature in FEATURES.rglob("*.feature"):
        tags = feature.read_text().split("Feature:")[0]
        assert "@allure.epic:MVP-2" in tags and re.search(r"@allure\.story:SC[1-7]\b", tags), feature
        assert re.search(r"@(blocker|critical|normal)\b", tags), feature
        assert "@allure.feature" not in tags, feature


def test_steps_are_thin_documented_and_do_no_io_themselves():
    for module in STEPS.glob("*.py"):
        source = module.read_text()
        assert not re.search(r"^\s*import (httpx|psycopg|requests)|^from (httpx|psycopg)", source, re.M), module
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("step_"):
                assert ast.get_docstring(node), f"{module.name}:{node.name} has no docstring"
                body_lines = node.end_lineno - node.body[0].end_lineno
                assert body_lines <= 10, f"{module.name}:{node.name} is {body_lines} lines: move logic to the library"


def test_response_time_examples_are_the_plan_numbers():
    plan = load_profile("citadel-mvp2").thresholds["latency.response_ms"].per_model
    rows = re.findall(r"^\s*\|\s*(\w+)\s*\|\s*(\d+)\s*\|\s*$", (FEATURES / "sc1_integration" / "chat.feature").read_text(), re.M)
    assert {model: int(ms) for model, ms in rows if model != "model"} == plan


def test_ci_runs_the_readme_test_command():
    readme = (REPO_ROOT / "README.md").read_text()
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make accept" in readme
    assert re.search(r"^make test\s*$", ci, re.M), ".ci/run must call the README's test command"



def test_docs_faults_md_is_the_catalog_as_generated():
    from citadel_stack.faults import catalog_page
    from citadel_stack.faults.table import GENERATE

    page = REPO_ROOT / "docs" / "faults.md"
    assert page.exists() and page.read_text(encoding="utf-8") == catalog_page(), \
        f"docs/faults.md is generated from the fault catalog: run {GENERATE}"
