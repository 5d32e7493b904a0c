"""The accept command's own options: --output-dir moves every output, behave's options pass through."""
from __future__ import annotations

from pathlib import Path

import pytest

from citadel_acceptance.cli.accept import REPO_ROOT, behave_ini_for, profile_of, run_property, split_output_dir


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


def test_feature_paths_are_made_absolute_from_where_the_command_was_given(tmp_path):
    from citadel_acceptance.cli.accept import resolve_paths

    (tmp_path / "mine.feature").write_text("Feature: x\n")
    args = ["-D", "profile=embedded", "mine.feature:3", "--tags", "@chat", "-n", "phi3", str(REPO_ROOT / "features")]
    assert resolve_paths(args, tmp_path) == ["-D", "profile=embedded", f"{tmp_path / 'mine.feature'}:3", "--tags",
                                             "@chat", "-n", "phi3", str(REPO_ROOT / "features")]
    with pytest.raises(ValueError, match="no feature file or folder 'features/none.feature'"):
        resolve_paths(["features/none.feature"], tmp_path)


def test_a_run_stopped_by_its_configuration_is_not_called_a_target_not_ready():
    from citadel_acceptance.cli.accept import run_kind
    from citadel_acceptance.report.handover import NOT_READY, Handover

    nothing_ran = Handover(verdict=NOT_READY, reasons=[], rows=[])
    before_the_suite = run_kind(1, nothing_ran, {})
    assert "configuration error" in before_the_suite and "not ready" not in before_the_suite
    wrong_profile = run_kind(1, nothing_ran, {"stage": "configuration error", "error": "no profile 'x'"})
    assert "configuration error" in wrong_profile and "no profile 'x'" in wrong_profile
    assert "the target was not ready" in run_kind(1, nothing_ran, {"stage": "started"})


def test_the_allure_report_loses_its_analytics_tag_and_nothing_else(tmp_path):
    from citadel_acceptance.cli.accept import without_analytics

    index = tmp_path / "index.html"
    index.write_text('<body><div id="app"></div>\n<script async src="https://www.googletagmanager.com/gtag/js?id=G-1">'
                     '</script>\n    <script>\n        window.dataLayer = window.dataLayer || [];\n        function gtag()'
                     '{dataLayer.push(arguments);}\n        gtag("config", "G-1", {});\n    </script>\n'
                     '<script>window.report = 1;</script></body>')
    without_analytics(index)
    text = index.read_text()
    assert "googletagmanager" not in text and "dataLayer" not in text
    assert '<div id="app"></div>' in text and "<script>window.report = 1;</script>" in text


def test_the_summary_reads_the_calibration_the_run_wrote(tmp_path):
    """The calibration line of environment.properties is what accept prints after the run (behave's pretty
    formatter captures what the run prints itself)."""
    assert run_property(tmp_path, "calibration") == ""  # no run files: nothing to print
    (tmp_path / "environment.properties").write_text(
        "calibration=one chat answer 858 ms (median of a few), capacity 1.046 answers/s\nprofile=embedded\n")
    assert run_property(tmp_path, "calibration") == "one chat answer 858 ms (median of a few), capacity 1.046 answers/s"
    assert run_property(tmp_path, "stack.faults") == ""


def test_strict_turns_a_passing_run_that_is_not_ready_into_a_failing_exit():
    from citadel_acceptance.cli.accept import NOT_READY_EXIT, exit_code
    from citadel_acceptance.report.handover import INCOMPLETE, NOT_READY, READY, Handover

    relaxed, ready = Handover(verdict=NOT_READY, reasons=["relaxed"], rows=[]), Handover(verdict=READY, reasons=[], rows=[])
    assert exit_code(0, relaxed, strict=False) == 0, "without --strict the exit code is behave's"
    assert exit_code(0, relaxed, strict=True) == NOT_READY_EXIT == 3
    assert exit_code(0, Handover(verdict=INCOMPLETE, reasons=[], rows=[]), strict=True) == NOT_READY_EXIT
    assert exit_code(0, ready, strict=True) == 0
    assert exit_code(1, relaxed, strict=True) == 1 and exit_code(130, relaxed, strict=True) == 130, "behave's failure stays"


def test_the_gate_list_is_read_where_the_run_wrote_it(tmp_path, monkeypatch):
    """-D reports_dir=X moves gates.json: the handover must read it there, or no relaxed target would count."""
    from citadel_acceptance.cli.accept import RunPaths, gates_file, run_state
    from citadel_acceptance.run.hooks import RUN_STATE_VARIABLE, record_run_state

    paths = RunPaths.under(tmp_path / "run")
    monkeypatch.setenv(RUN_STATE_VARIABLE, str(paths.run_state))
    assert gates_file(paths, run_state(paths)) == paths.gates, "nothing recorded: the run's own reports/"
    record_run_state(stage="configuration error", error="no profile 'x'")
    record_run_state(gates_file=str(tmp_path / "elsewhere" / "gates.json"))
    state = run_state(paths)
    assert state["stage"] == "configuration error", "a later record keeps what the run recorded before"
    assert gates_file(paths, state) == tmp_path / "elsewhere" / "gates.json"
