"""Protection of results: owner-only files, the secret scan, and the tamper-evident manifest."""
from __future__ import annotations

import os
import stat

from citadel_acceptance.report.protection import make_private, scan_for_secrets, verify_manifest, write_manifest


def test_manifest_detects_changed_added_and_removed_files(tmp_path):
    results = tmp_path / "allure-results"
    results.mkdir()
    (results / "a-result.json").write_text('{"status": "passed"}')
    (results / "b-attachment.json").write_text("{}")
    manifest = tmp_path / "manifest.json"
    digest = write_manifest(results, manifest)
    assert verify_manifest(results, manifest, digest) == []
    (results / "a-result.json").write_text('{"status": "failed"}')
    (results / "b-attachment.json").unlink()
    (results / "c-result.json").write_text("{}")
    assert verify_manifest(results, manifest, digest) == ["b-attachment.json: missing", "c-result.json: added after the run",
                                                          "a-result.json: changed"]
    manifest.write_text(manifest.read_text().replace("sha256", "md5"))
    assert "the manifest itself was changed" in verify_manifest(results, manifest, digest)


def test_secret_scan_names_files_never_secrets(tmp_path):
    (tmp_path / "clean.json").write_text('{"Authorization": "[REDACTED]"}')
    (tmp_path / "leak.txt").write_text("key ctk_abcdefgh12345678 in clear")
    hits = scan_for_secrets([tmp_path], ["ctk_abcdefgh12345678", "short"])
    assert hits == [str(tmp_path / "leak.txt")]


def test_results_are_private(tmp_path):
    previous = os.umask(0o022)
    try:
        make_private(tmp_path / "results")
        (tmp_path / "results" / "x.json").write_text("{}")
        assert stat.S_IMODE((tmp_path / "results").stat().st_mode) == 0o700
        assert stat.S_IMODE((tmp_path / "results" / "x.json").stat().st_mode) == 0o600
    finally:
        os.umask(previous)
