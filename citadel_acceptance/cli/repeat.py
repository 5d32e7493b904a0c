"""Run the acceptance run several times in a row and report any scenario whose outcome changed (a flaky one).

    python -m citadel_acceptance.cli.repeat [--runs 5] [--output-dir DIR] [behave options, e.g. --tags="not @soak"]

Each run writes its evidence under DIR/run-N (default reports/repeat/run-N; the accept command's
--output-dir); Allure's history is
shared, so the last report shows the trends of all of them. Exit code 0 when every run gave every
scenario the same outcome and the same handover verdict, 1 otherwise.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from citadel_acceptance.cli.accept import INTERRUPTED, OUTPUT_OPTION, REPO_ROOT, main as accept, split_output_dir

RUNS_OPTION = "--runs"


def outcomes(handover_json: Path) -> tuple[str, dict[str, str]]:
    """(handover verdict, scenario name -> status) of one run's matrix."""
    data = json.loads(handover_json.read_text(encoding="utf-8"))
    return data["verdict"], {s["name"]: s["status"] for row in data["rows"] for s in row["scenarios"]}


def differences(runs: list[tuple[str, dict[str, str]]]) -> list[str]:
    """Plain lines naming the verdicts and scenarios that were not the same in every run."""
    lines = []
    verdicts = [verdict for verdict, _ in runs]
    if len(set(verdicts)) > 1:
        lines.append(f"handover verdict: {' / '.join(verdicts)}")
    for name in sorted({n for _, statuses in runs for n in statuses}):
        seen = [statuses.get(name, "missing") for _, statuses in runs]
        if len(set(seen)) > 1:
            lines.append(f"{name}: {' / '.join(seen)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    count = 5
    if RUNS_OPTION in args:
        at = args.index(RUNS_OPTION)
        count = int(args[at + 1])
        del args[at:at + 2]
    given = any(a == OUTPUT_OPTION or a.startswith(OUTPUT_OPTION + "=") for a in args)
    paths, behave_args = split_output_dir(args)
    base = paths.root if given else REPO_ROOT / "reports" / "repeat"
    history = base / "allure-history.jsonl"
    runs = []
    for number in range(1, count + 1):
        folder = base / f"run-{number}"
        if history.exists():  # one history for all the runs: the last report shows their trends
            (folder / "reports").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(history, folder / "reports" / "allure-history.jsonl")
        print(f"\n[repeat] run {number} of {count}: evidence in {folder}", flush=True)
        if accept([OUTPUT_OPTION, str(folder), *behave_args]) == INTERRUPTED:
            print(f"[repeat] interrupted in run {number}: no comparison", flush=True)
            return INTERRUPTED
        if (folder / "reports" / "allure-history.jsonl").exists():
            shutil.copyfile(folder / "reports" / "allure-history.jsonl", history)
        runs.append(outcomes(folder / "reports" / "handover.json"))
    changed = differences(runs)
    print("\n" + "=" * 100)
    if changed:
        print(f"[repeat] {len(changed)} outcome(s) changed between the {count} runs (flaky, or the target changed):")
        print("\n".join(f"  - {line}" for line in changed))
        return 1
    print(f"[repeat] {count} runs, the same outcome for each of {len(runs[0][1])} scenarios and the same verdict "
          f"({runs[0][0]}) every time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
