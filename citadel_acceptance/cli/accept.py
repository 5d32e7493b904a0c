"""The acceptance run: behave, then the HTML report, then the verdict per criterion.

    python -m citadel_acceptance.cli.accept [--output-dir DIR] [--strict] [behave options, e.g. -D profile=citadel-mvp2 --tags="not @destructive"]

Evidence goes to the repository (allure-results/, allure-report/, reports/) or, with --output-dir, under DIR
(the same layout; behave then runs there with a copy of behave.ini whose outputs point into DIR).

Exit code: behave's (0 when every scenario that ran passed). With --strict, a run whose scenarios all passed
still exits 3 unless the handover verdict is READY (a pipeline gating a handover on the verdict, not on
behave). The report and the summary are written whatever behave's outcome, so a failed run still leaves
its evidence.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from citadel_acceptance.report.handover import Handover, allure_result, build, format_text, write_json
from citadel_acceptance.report.handover_page import write_html
from citadel_acceptance.report.inventory import scenarios_per_criterion
from citadel_acceptance.report.protection import verify_manifest, write_manifest
from citadel_acceptance.run.hooks import RUN_STATE_VARIABLE, clean_results
from citadel_acceptance.run.session import REPO_ROOT

INTERRUPTED = 130
NOT_READY_EXIT = 3  # --strict: every scenario that ran passed, but the verdict is not READY
STRICT_OPTION = "--strict"
ALLURE_CLI = REPO_ROOT / "node_modules" / ".bin" / "allure"
OUTPUT_OPTION = "--output-dir"


@dataclass(frozen=True)
class RunPaths:
    """Where one acceptance run writes its evidence: the repository (default) or a folder of its own."""

    root: Path
    results: Path     # allure-results/
    report: Path      # allure-report/ (the single-file HTML report)
    reports: Path     # reports/: gates, handover matrix, manifest, JUnit, Allure's history
    junit: Path
    gates: Path
    manifest: Path
    handover_html: Path
    handover_json: Path
    history: Path     # Allure's history (one line per run): the report's trends across runs
    run_state: Path   # how far the suite got (written by its hooks): a configuration error is not a target's fault

    @classmethod
    def under(cls, root: Path) -> RunPaths:
        reports = root / "reports"
        return cls(root=root, results=root / "allure-results", report=root / "allure-report", reports=reports,
                   junit=reports / "junit", gates=reports / "gates.json", manifest=reports / "evidence-manifest.json",
                   handover_html=reports / "handover.html", handover_json=reports / "handover.json",
                   history=reports / "allure-history.jsonl", run_state=reports / "run-state.json")


DEFAULT_PATHS = RunPaths.under(REPO_ROOT)
RESULTS_DIR = DEFAULT_PATHS.results  # kept for callers of the default layout


def split_output_dir(args: list[str]) -> tuple[RunPaths, list[str]]:
    """The run's output folder (`--output-dir DIR`, default the repository) and the remaining behave options."""
    rest, root = [], REPO_ROOT
    i = 0
    while i < len(args):
        if args[i] == OUTPUT_OPTION:
            if i + 1 >= len(args):
                raise SystemExit(f"{OUTPUT_OPTION} needs a folder, e.g. {OUTPUT_OPTION} /tmp/citadel-run")
            root, i = Path(args[i + 1]), i + 2
            continue
        if args[i].startswith(OUTPUT_OPTION + "="):
            root = Path(args[i].split("=", 1)[1])
        else:
            rest.append(args[i])
        i += 1
    return RunPaths.under(root.resolve()), rest


def behave_ini_for(paths: RunPaths) -> str:
    """The repository's behave.ini with every output moved under `paths.root` (features and steps stay)."""
    lines = []
    for line in (REPO_ROOT / "behave.ini").read_text(encoding="utf-8").splitlines():
        key = line.split("=", 1)[0].strip()
        if key == "paths":
            line = f"paths = {REPO_ROOT / 'features'}"
        elif key == "outfiles":
            line = f"outfiles = {paths.results}"
        elif key == "junit_directory":
            line = f"junit_directory = {paths.junit}"
        elif key == "stack_dir":
            line = f"stack_dir = {REPO_ROOT / '.stack' / 'default'}"
        lines.append(line)
    if not any(line.split("=", 1)[0].strip() == "reports_dir" for line in lines):
        lines.append(f"reports_dir = {paths.reports}")
    return "\n".join(lines) + "\n"


def run_behave(args: list[str], paths: RunPaths = DEFAULT_PATHS) -> int:
    """Run behave with the given options (in the output folder when it is not the repository); console output."""
    console = [] if any(a in ("-f", "--format") or a.startswith("--format=") for a in args) else ["-f", "pretty"]
    command = [sys.executable, "-m", "behave", *console, *args]
    cwd, env = REPO_ROOT, None
    if paths.root != REPO_ROOT:
        paths.root.mkdir(parents=True, exist_ok=True)
        (paths.root / "behave.ini").write_text(behave_ini_for(paths), encoding="utf-8")
        cwd, env = paths.root, {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    # behave runs in a session of its own, so that a Ctrl-C reaches this process only, which passes one SIGINT
    # on: behave then ends the current step, runs its clean-up (test data, evidence files) and stops.
    paths.run_state.unlink(missing_ok=True)
    clean_results(paths.results)  # results of an earlier run must not read as this run's when behave stops early
    env = {**(env or os.environ), RUN_STATE_VARIABLE: str(paths.run_state)}
    process = subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True)
    try:
        return process.wait()
    except KeyboardInterrupt:
        print("\ninterrupted: behave ends the current step and removes the run's test data, then the report of "
              "what ran so far is written (Ctrl-C again stops behave at once)", flush=True)
        process.send_signal(signal.SIGINT)
        try:
            process.wait()
        except KeyboardInterrupt:
            process.terminate()
            process.wait()
        return INTERRUPTED


def generate_report(paths: RunPaths = DEFAULT_PATHS) -> tuple[Path | None, str]:
    """Build the single-file Allure 3 report, its trends kept in the history file; (path, '') or (None, why not)."""
    results_dir, report_dir = paths.results, paths.report
    if not ALLURE_CLI.exists():
        return None, f"the Allure CLI is not installed ({ALLURE_CLI}): run `make setup` (npm ci) to get it"
    if not any(results_dir.glob("*-result.json")):
        return None, f"no scenario results in {results_dir}: behave stopped before the first scenario"
    if report_dir.exists():
        shutil.rmtree(report_dir)
    command = [str(ALLURE_CLI), "awesome", "--single-file", "--name", "Citadel MVP-2 acceptance",
               "--group-by", "story", "--history-path", str(paths.history), "-o", str(report_dir), str(results_dir)]
    try:
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=180, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"the Allure CLI failed to run: {exc}"
    index = report_dir / "index.html"
    if done.returncode != 0 or not index.exists():
        return None, f"the Allure CLI exited {done.returncode}: {(done.stderr or done.stdout).strip()[-400:]}"
    without_analytics(index)
    return index, ""


ANALYTICS = re.compile(r"<script async src=\"https://www\.googletagmanager\.com/gtag/js\?id=[^\"]*\"></script>\s*"
                       r"<script>\s*window\.dataLayer = window\.dataLayer \|\| \[\];.*?</script>", re.S)


def without_analytics(index: Path) -> None:
    """Remove the Google Analytics tag Allure 3's awesome report always writes (its template sets analyticsEnable:
    true, and ALLURE_NO_ANALYTICS is read by the allure2 plugin only): evidence of an on-prem deployment is opened
    on machines that must not report to a third party, and a page that reaches out fails offline checks."""
    text = index.read_text(encoding="utf-8")
    cleaned = ANALYTICS.sub("", text)
    if cleaned != text:
        index.write_text(cleaned, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run behave, write the report, print the per-criterion summary; exit with behave's code."""
    paths, args = split_output_dir(list(sys.argv[1:] if argv is None else argv))
    if args[:1] == ["--verify-evidence"]:
        problems = verify_manifest(paths.results, paths.manifest, args[1] if len(args) > 1 else None)
        print("\n".join(problems) or f"every evidence file in {paths.results} is as the manifest recorded it")
        return 1 if problems else 0
    try:
        args = resolve_paths(args, Path.cwd())
    except ValueError as problem:
        print(f"accept: {problem}", file=sys.stderr)
        return 2
    strict = STRICT_OPTION in args
    args = [arg for arg in args if arg != STRICT_OPTION]
    started = time.monotonic()
    code = run_behave(args, paths)
    interrupted = code == INTERRUPTED
    state = run_state(paths)
    handover = build(paths.results, gates_file(paths, state), interrupted, profile_of(args),
                     expected=scenarios_per_criterion(REPO_ROOT / "features"))
    page, data = write_html(handover, paths.handover_html), write_json(handover, paths.handover_json)
    if paths.results.exists() and any(paths.results.glob("*-result.json")):
        allure_result(handover, paths.results, page, data)
    manifest_digest = write_manifest(paths.results, paths.manifest) if paths.results.exists() else ""
    report, why_not = generate_report(paths)
    print("\n" + "=" * 100)
    print(f"HTML report: {report}" if report else f"HTML report not written: {why_not}")
    print(f"Handover matrix: {page} and {data}")
    print(f"JUnit XML:   {paths.junit}")
    if manifest_digest:
        again = "" if paths.root == REPO_ROOT else f" {OUTPUT_OPTION} {paths.root}"
        print(f"Evidence manifest: {paths.manifest} (sha256 {manifest_digest}); check it later with "
              f"python -m citadel_acceptance.cli.accept{again} --verify-evidence {manifest_digest}")
    print(f"Run took {time.monotonic() - started:.0f} s. {run_kind(code, handover, state)}")
    figures = run_property(paths.results, "calibration")
    if figures:
        print(f"Calibrated on this machine (the relaxed thresholds that say so are relative to it): {figures}")
    print("\nCitadel MVP-2 acceptance: success criteria, the scenarios that prove them, and the handover verdict")
    print(format_text(handover))
    final = exit_code(code, handover, strict)
    if final != code:
        print(f"\n{STRICT_OPTION}: the verdict is {handover.headline}, not READY: exit {final}")
    return final


def exit_code(code: int, handover: Handover, strict: bool) -> int:
    """behave's exit code; with --strict, a run that passed exits NOT_READY_EXIT unless the verdict is READY."""
    return NOT_READY_EXIT if strict and code == 0 and not handover.ready else code


def run_property(results: Path, name: str) -> str:
    """One line of the run's environment.properties ('' when the run wrote none or not that one)."""
    try:
        lines = (results / "environment.properties").read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    return next((line.split("=", 1)[1] for line in lines if line.startswith(f"{name}=")), "")


def profile_of(args: list[str]) -> str:
    """The profile a behave command line selects (-D profile=NAME), else the default."""
    for flag, value in zip(args, args[1:] + [""]):
        for option in (flag, f"{flag} {value}"):
            if option.replace(" ", "").startswith(("-Dprofile=", "--define=profile=", "--defineprofile=")):
                return option.split("profile=", 1)[1]
    return "embedded"


def resolve_paths(args: list[str], cwd: Path) -> list[str]:
    """behave's arguments with every feature path made absolute from `cwd` (behave runs in another folder).

    A positional argument (not an option, not an option's value) is a feature file or folder; one that does not
    exist raises ValueError with the sentence to print.
    """
    takes_value = {"-D", "--define", "-t", "--tags", "-n", "--name", "-i", "--include", "-e", "--exclude", "-f",
                   "--format", "-o", "--outfile", "-k", "--logging-level", "--junit-directory", "-l", "--lang",
                   "--logging-format", "--logging-datefmt", "--logging-filter", "--stage", "--runner", "-c",
                   "--capture-hooks"}
    resolved, expect_value = [], False
    for arg in args:
        if expect_value or arg.startswith("-"):
            expect_value = arg in takes_value and not expect_value
            resolved.append(arg)
            continue
        path, line = re.fullmatch(r"(.*?)((?::\d+)*)", arg).groups()  # features/x.feature:12 names a line
        absolute = Path(path) if Path(path).is_absolute() else cwd / path
        if not absolute.exists():
            raise ValueError(f"no feature file or folder {path!r} (looked in {cwd}): give a path under "
                             f"{REPO_ROOT / 'features'}, or select scenarios with --tags or --name")
        resolved.append(f"{absolute.resolve()}{line}")
    return resolved


def run_state(paths: RunPaths) -> dict[str, str]:
    """How far the suite got (run.hooks.record_run_state): {} when behave stopped before the suite's first hook."""
    try:
        state = json.loads(paths.run_state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def gates_file(paths: RunPaths, state: dict[str, str]) -> Path:
    """Where this run wrote its gate list: where the suite said (`-D reports_dir` moves it), else the run's reports/."""
    written = state.get("gates_file")
    return Path(written) if written else paths.gates


def run_kind(code: int, handover: Handover, state: dict[str, str] | None = None) -> str:
    """One plain sentence: which kind of run this was, and why its exit code and verdict differ (if they do)."""
    state = {"stage": "started"} if state is None else state
    if code == INTERRUPTED:
        return "The run was interrupted: the report covers what ran, and the verdict is INCOMPLETE."
    if code != 0 and not handover.ran_any and state.get("stage") != "started":
        why = state.get("error") or ("behave stopped before the suite started (its message is above: a feature path, "
                                     "an option, behave.ini)")
        return (f"behave exited {code}: a configuration error of this run, not a finding about the target: {why}. "
                f"Correct it and run again; the verdict is {handover.verdict}.")
    if code != 0 and not handover.ran_any:
        return (f"behave exited {code} and no scenario ran to a verdict: the target was not ready, for the reasons "
                f"below; nothing about the product was learnt, so the verdict is {handover.verdict}.")
    if code != 0:
        return f"behave exited {code}: scenarios failed (see above), so the verdict is {handover.verdict}."
    if handover.ready:
        return "Every scenario passed against the plan's own targets: this run supports the handover."
    return ("Every scenario that ran passed (exit 0), but this run cannot support the handover: it relaxed or "
            "skipped what a handover run must prove (the reasons are listed with the verdict). A run like this is a "
            "rehearsal, for example on the embedded reference stack.")

if __name__ == "__main__":
    sys.exit(main())
