"""The acceptance run: behave, then the HTML report, then the verdict per criterion.

    python -m citadel_acceptance.accept [behave options, e.g. -D profile=citadel-mvp2 --tags="not @destructive"]

Exit code: behave's (0 when every scenario that ran passed). The report and the summary are written
whatever behave's outcome, so a failed run still leaves its evidence.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from citadel_acceptance.handover import Handover, allure_result, build, format_text, write_html, write_json
from citadel_acceptance.results_protection import verify_manifest, write_manifest
from citadel_acceptance.session import REPO_ROOT

RESULTS_DIR = REPO_ROOT / "allure-results"
REPORT_DIR = REPO_ROOT / "allure-report"
JUNIT_DIR = REPO_ROOT / "reports" / "junit"
GATES_FILE = REPO_ROOT / "reports" / "gates.json"
MANIFEST = REPO_ROOT / "reports" / "evidence-manifest.json"
HANDOVER_HTML = REPO_ROOT / "reports" / "handover.html"
HANDOVER_JSON = REPO_ROOT / "reports" / "handover.json"
INTERRUPTED = 130
ALLURE_CLI = REPO_ROOT / "node_modules" / ".bin" / "allure"


def run_behave(args: list[str]) -> int:
    """Run behave in the repository root with the given options; its output goes to the console."""
    console = [] if any(a in ("-f", "--format") or a.startswith("--format=") for a in args) else ["-f", "pretty"]
    command = [sys.executable, "-m", "behave", *console, *args]
    try:
        return subprocess.run(command, cwd=REPO_ROOT, check=False).returncode
    except KeyboardInterrupt:
        print("\ninterrupted: writing the report of what ran so far", flush=True)
        return INTERRUPTED


def generate_report(results_dir: Path = RESULTS_DIR, report_dir: Path = REPORT_DIR) -> tuple[Path | None, str]:
    """Build the single-file Allure 3 report; (path, '') or (None, why not)."""
    if not ALLURE_CLI.exists():
        return None, f"the Allure CLI is not installed ({ALLURE_CLI}): run `make setup` (npm ci) to get it"
    if not any(results_dir.glob("*-result.json")):
        return None, f"no scenario results in {results_dir}: behave stopped before the first scenario"
    if report_dir.exists():
        shutil.rmtree(report_dir)
    command = [str(ALLURE_CLI), "awesome", "--single-file", "--name", "Citadel MVP-2 acceptance",
               "--group-by", "story", "-o", str(report_dir), str(results_dir)]
    try:
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=180, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"the Allure CLI failed to run: {exc}"
    index = report_dir / "index.html"
    if done.returncode != 0 or not index.exists():
        return None, f"the Allure CLI exited {done.returncode}: {(done.stderr or done.stdout).strip()[-400:]}"
    return index, ""


def main(argv: list[str] | None = None) -> int:
    """Run behave, write the report, print the per-criterion summary; exit with behave's code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--verify-evidence"]:
        problems = verify_manifest(RESULTS_DIR, MANIFEST, args[1] if len(args) > 1 else None)
        print("\n".join(problems) or f"every evidence file in {RESULTS_DIR} is as the manifest recorded it")
        return 1 if problems else 0
    started = time.monotonic()
    code = run_behave(args)
    interrupted = code == INTERRUPTED
    handover = build(RESULTS_DIR, GATES_FILE, interrupted, profile_of(args))
    page, data = write_html(handover, HANDOVER_HTML), write_json(handover, HANDOVER_JSON)
    if RESULTS_DIR.exists() and any(RESULTS_DIR.glob("*-result.json")):
        allure_result(handover, RESULTS_DIR, page, data)
    manifest_digest = write_manifest(RESULTS_DIR, MANIFEST) if RESULTS_DIR.exists() else ""
    report, why_not = generate_report()
    print("\n" + "=" * 100)
    print(f"HTML report: {report}" if report else f"HTML report not written: {why_not}")
    print(f"Handover matrix: {page} and {data}")
    print(f"JUnit XML:   {JUNIT_DIR}")
    if manifest_digest:
        print(f"Evidence manifest: {MANIFEST} (sha256 {manifest_digest}); check it later with "
              f"python -m citadel_acceptance.accept --verify-evidence {manifest_digest}")
    print(f"Run took {time.monotonic() - started:.0f} s. {run_kind(code, handover)}")
    print("\nCitadel MVP-2 acceptance: success criteria, the scenarios that prove them, and the handover verdict")
    print(format_text(handover))
    return code


def profile_of(args: list[str]) -> str:
    """The profile a behave command line selects (-D profile=NAME), else the default."""
    for flag, value in zip(args, args[1:] + [""]):
        for option in (flag, f"{flag} {value}"):
            if option.replace(" ", "").startswith(("-Dprofile=", "--define=profile=", "--defineprofile=")):
                return option.split("profile=", 1)[1]
    return "embedded"


def run_kind(code: int, handover: Handover) -> str:
    """One plain sentence: which kind of run this was, and why its exit code and verdict differ (if they do)."""
    if code == INTERRUPTED:
        return "The run was interrupted: the report covers what ran, and the verdict is INCOMPLETE."
    if code != 0:
        return f"behave exited {code}: scenarios failed (see above), so the verdict is {handover.verdict}."
    if handover.ready:
        return "Every scenario passed against the plan's own targets: this run supports the handover."
    return ("Every scenario that ran passed (exit 0), but this run cannot support the handover: it relaxed or "
            "skipped what a handover run must prove (the reasons are listed with the verdict). A run like this is a "
            "rehearsal, for example on the embedded reference stack.")

if __name__ == "__main__":
    sys.exit(main())
