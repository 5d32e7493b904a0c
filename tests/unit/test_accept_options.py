"""The accept command's own options: --output-dir moves every output, behave's options pass through."""
from __future__ import annotations

from pathlib import Path

import pytest

from citadel_acceptance.cli.accept import REPO_ROOT, behave_ini_for, profile_of, split_output_dir


def test_without_the_option_the_evidence_goes_to_the_repository():
    paths, rest = split_output_dir(["-D", "profile=embedded", "--tags", "@chat"])
    assert paths.root == REPO_ROOT and paths.results == REPO_ROOT / "allure-results"
    assert rest == ["-D", "profile=embedded", "--tags", "@chat"]


@pytest.mark.parametrize("args", [["--output-dir", "/tmp/run-1", "-D", "x.y=1"], ["--output-dir=/tmp/run-1", "-D", "x.y=1"]])
def test_the_option_moves_every_output_and_is_not_passed_to_behave(args):
    paths, rest = split_output_dir(args)
    assert rest == ["-D", "x.y=1"]
    for path in (paths.results, paths.report, paths.gates, paths.junit, paths.handover_html, paths.history):
        assert path.is_relative_to(Path("/tmp/run-1"))


def test_the_option_without_a_folder_says_what_it_needs():
    with pytest.raises(SystemExit, match="needs a folder"):
        split_output_dir(["--output-dir"])


def test_the_behave_settings_of_an_output_folder_keep_the_features_and_move_the_outputs():
    paths, _ = split_output_dir(["--output-dir", "/tmp/run-2"])
    ini = behave_ini_for(paths)
    assert f"paths = {REPO_ROOT / 'features'}" in ini and "outfiles = /tmp/run-2/allure-results" in ini
    assert "junit_directory = /tmp/run-2/reports/junit" in ini and "reports_dir = /tmp/run-2/reports" in ini
    assert "profile = embedded" in ini


def test_the_profile_is_read_from_the_behave_options():
    assert profile_of(["-D", "profile=citadel-mvp2"]) == "citadel-mvp2"
    assert profile_of(["--tags", "@chat"]) == "embedded"


def test_repeated_runs_name_what_changed_between_them():
    from citadel_acceptance.cli.repeat import differences

    same = ("NOT READY", {"a": "passed", "b": "skipped"})
    assert differences([same, same, same]) == []
    flaky = ("NOT READY", {"a": "failed", "b": "skipped"})
    assert differences([same, flaky, same]) == ["a: passed / failed / passed"]
    assert differences([same, ("READY", {"a": "passed", "b": "skipped"})]) == ["handover verdict: NOT READY / READY"]
    assert differences([same, ("NOT READY", {"a": "passed"})]) == ["b: skipped / missing"]
