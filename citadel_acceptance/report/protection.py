"""Protection of the run's results (section 2.4): owner-only files, a secret scan, a tamper-evident manifest."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Iterable

PRIVATE_UMASK = 0o077


def make_private(directory: Path) -> None:
    """From now on files this process writes are readable by their owner only; the folder too."""
    os.umask(PRIVATE_UMASK)
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)


def scan_for_secrets(directories: Iterable[Path], secrets: Iterable[str]) -> list[str]:
    """Files under `directories` that contain any of the secrets (their paths only: never the secret)."""
    needles = [s.encode("utf-8") for s in secrets if s and len(s) >= 8]
    hits = []
    for directory in directories:
        if not directory.exists():
            continue
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            data = path.read_bytes()
            if any(needle in data for needle in needles):
                hits.append(str(path))
    return hits


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(results_dir: Path, manifest: Path) -> str:
    """SHA-256 of every evidence file (relative path -> digest); returns the manifest's own SHA-256."""
    entries = {str(p.relative_to(results_dir)): _digest(p) for p in sorted(results_dir.rglob("*"))
               if p.is_file() and p != manifest}
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"algorithm": "sha256", "files": entries}, indent=1, sort_keys=True), encoding="utf-8")
    os.chmod(manifest, 0o600)
    return _digest(manifest)


def verify_manifest(results_dir: Path, manifest: Path, expected_digest: str | None = None) -> list[str]:
    """Every file as the manifest recorded it, no file added or removed, and the manifest itself unchanged."""
    problems = []
    if expected_digest is not None and _digest(manifest) != expected_digest:
        problems.append("the manifest itself was changed")
    recorded = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    present = {str(p.relative_to(results_dir)) for p in results_dir.rglob("*") if p.is_file() and p != manifest}
    problems += [f"{name}: missing" for name in sorted(set(recorded) - present)]
    problems += [f"{name}: added after the run" for name in sorted(present - set(recorded))]
    problems += [f"{name}: changed" for name in sorted(set(recorded) & present) if _digest(results_dir / name) != recorded[name]]
    return problems
