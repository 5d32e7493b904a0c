"""The acceptance run: behave, then the HTML report, then the verdict per criterion.

    python -m citadel_acceptance.accept [behave options, e.g. -D profile=citadel-mvp2 --tags="not @destructive"]

Exit code: behave's (0 when every scenario that ran passed). The report and the summary are written
whatever behave's outcome, so a failed run still leaves its evidence.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from citadel_acceptance.results_protection import verify_manifest, write_manifest
from citadel_acceptance.results_summary import format_table, read_results
from citadel_acceptance.session import REPO_ROOT

RESULTS_DIR = REPO_ROOT / "allure-results"
REPORT_DIR = REPO_ROOT / "allure-report"
JUNIT_DIR = REPO_ROOT / "reports" / "junit"
GATES_FILE = REPO_ROOT / "reports" / "gates.json"
MANIFEST = REPO_ROOT / "reports" / "evidence-manifest.json"
ALLURE_CLI = REPO_ROOT / "node_modules" / ".bin" / "allure"


def run_behave(args: list[str]) -> int:
    """Run behave in the repository root with the given options; its output goes to the console."""
    console = [] if any(a in ("-f", "--format") or a.startswith("--format=") for a in args) else ["-f", "pretty"]
    command = [sys.executable, "-m", "behave", *console, *args]
    try:
        return subprocess.run(command, cwd=REPO_ROOT, check=False).returncode
    except KeyboardInterrupt:
        print("\ninterrupted: writing the report of what ran so far", flush=True)
        return 130


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


def relaxed_targets(gates_file: Path = GATES_FILE) -> list[str]:
    """The targets this run applied looser than the plan, one line per target with its models and reason."""
    try:
        gates = json.loads(gates_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    grouped: dict[str, dict[str, str]] = {}
    reasons: dict[str, str] = {}
    for gate in (record.get("gate") or {} for record in gates):
        if gate.get("relaxed"):
            scope = gate.get("model") or "all"
            grouped.setdefault(gate["key"], {})[scope] = f"{gate['compare']} {gate['spec']:g} -> {gate['applied']:g} {gate['unit']}"
            reasons[gate["key"]] = gate["reason"]
    return [f"{key}: {', '.join(f'{scope} {change}' for scope, change in sorted(scopes.items()))}. Why: {reasons[key]}"
            for key, scopes in sorted(grouped.items())]


def main(argv: list[str] | None = None) -> int:
    """Run behave, write the report, print the per-criterion summary; exit with behave's code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--verify-evidence"]:
        problems = verify_manifest(RESULTS_DIR, MANIFEST, args[1] if len(args) > 1 else None)
        print("\n".join(problems) or f"every evidence file in {RESULTS_DIR} is as the manifest recorded it")
        return 1 if problems else 0
    started = time.monotonic()
    code = run_behave(args)
    manifest_digest = write_manifest(RESULTS_DIR, MANIFEST) if RESULTS_DIR.exists() else ""
    report, why_not = generate_report()
    print("\n" + "=" * 100)
    print("Citadel MVP-2 acceptance: scenarios per success criterion")
    print(format_table(read_results(RESULTS_DIR)))
    relaxed = relaxed_targets()
    if relaxed:
        print(f"\nTargets relaxed by the profile ({len(relaxed)}): this run cannot be called ready for handover")
        print("\n".join(f"  - {line}" for line in relaxed))
    print(f"\nHTML report: {report}" if report else f"\nHTML report not written: {why_not}")
    print(f"JUnit XML:   {JUNIT_DIR}")
    if manifest_digest:
        print(f"Evidence manifest: {MANIFEST} (sha256 {manifest_digest}); check it later with "
              f"python -m citadel_acceptance.accept --verify-evidence {manifest_digest}")
    outcome = "every scenario that ran passed" if code == 0 else f"behave exited {code}: see the failures above"
    print(f"Run took {time.monotonic() - started:.0f} s; {outcome}.")
    return code


if __name__ == "__main__":
    sys.exit(main())
