"""The scenarios the specification holds, per criterion: what a complete run must have results for."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

STORY_TAG = "allure.story:"


def dry_run(features_dir: Path, tags: str | None = None, timeout_s: float = 120) -> list[dict] | None:
    """behave's JSON of the features (`behave --dry-run`: no hook, no step runs), selected by `tags`, or None
    when behave cannot read them. It runs in a folder of its own with an empty behave.ini: the repository's
    would add its formatters, and the Allure one would write a "skipped" result per scenario into a run's results."""
    with tempfile.TemporaryDirectory(prefix="citadel-inventory-") as scratch:
        out = Path(scratch) / "dry-run.json"
        (Path(scratch) / "behave.ini").write_text("[behave]\n", encoding="utf-8")
        command = [sys.executable, "-m", "behave", "--dry-run", "--no-summary", "-f", "json", "-o", str(out),
                   *(["--tags", tags] if tags else []), str(features_dir.resolve())]
        try:
            subprocess.run(command, cwd=scratch, capture_output=True, timeout=timeout_s)
            return json.loads(out.read_text(encoding="utf-8") or "[]")
        except (OSError, ValueError, subprocess.SubprocessError):
            return None


def scenarios_per_criterion(features_dir: Path, timeout_s: float = 120) -> dict[str, int] | None:
    """How many scenarios (each example of an outline counted) each criterion's features hold, or None.

    Asked of behave itself (`dry_run`), so the count is what behave would run with no tag or name selection.
    None when behave cannot read the features: the handover then judges the results that exist, and behave's
    own run reports the problem.
    """
    features = dry_run(features_dir, timeout_s=timeout_s)
    if features is None:
        return None
    counts: Counter[str] = Counter()
    for feature in features:
        for element in feature.get("elements", []):
            if element.get("type") != "scenario":
                continue
            tags = [*element.get("tags", []), *feature.get("tags", [])]  # a scenario's own story first
            stories = [tag[len(STORY_TAG):] for tag in tags if tag.startswith(STORY_TAG)]
            counts[stories[0] if stories else "unassigned"] += 1
    return dict(counts)
