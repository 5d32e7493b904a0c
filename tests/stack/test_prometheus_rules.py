"""The stack's Prometheus rules and configuration, checked by Prometheus' own promtool.

`promtool check rules` parses every rule file, `promtool test rules` runs their unit tests
(citadel_stack/prometheus/tests/), and `promtool check config` checks the configuration the stack
generates (embedded profile's settings, and with the anomaly windows shortened).
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from citadel_acceptance.config.profile import load_profile
from citadel_stack.prometheus.config import RULES_DIR, ScrapeSettings, rule_files, scrape_config

PROMTOOL = shutil.which("promtool")
TESTS_DIR = RULES_DIR.parent / "tests"
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian's prometheus package)")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60)


def test_every_rule_file_is_valid():
    files = sorted(str(p) for p in RULES_DIR.glob("*.yml"))
    assert len(files) >= 3
    done = promtool("check", "rules", *files)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_rule_file_has_unit_tests_and_they_pass():
    tests = sorted(TESTS_DIR.glob("*_test.yml"))
    tested = {Path(rule).name for test in tests for rule in yaml.safe_load(test.read_text())["rule_files"]}
    assert tested == {p.name for p in RULES_DIR.glob("*.yml")}, "every rule file needs promtool unit tests"
    done = promtool("test", "rules", *map(str, tests))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("profile", ["embedded", "citadel-mvp2"])
def test_the_generated_configuration_and_rules_are_valid(profile, tmp_path):
    settings = ScrapeSettings.from_monitoring(load_profile(profile).monitoring.as_dict())
    rule_paths = []
    for name, text in rule_files(settings).items():
        (tmp_path / name).write_text(text)
        rule_paths.append(tmp_path / name)
    key = tmp_path / "vector-store.key"
    key.write_text("qdk_test")
    config = scrape_config(settings, "127.0.0.1:8000", "/metrics", "127.0.0.1:6333", key, "127.0.0.1:9090", rule_paths)
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    done = promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
