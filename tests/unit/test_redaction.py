"""Redaction: secrets never reach evidence or the console."""
from __future__ import annotations

from citadel_acceptance.report.redaction import MASK, Redactor


def test_known_secrets_are_masked_everywhere():
    redactor = Redactor(["ctk_supersecretvalue"])
    assert redactor.text("key=ctk_supersecretvalue!") == f"key={MASK}!"
    assert redactor.data({"a": ["x ctk_supersecretvalue y"]}) == {"a": [f"x {MASK} y"]}


def test_bearer_headers_and_dsn_passwords_are_masked_without_being_known():
    redactor = Redactor()
    assert redactor.text("Authorization: Bearer abcdef123456") == f"Authorization: Bearer {MASK}"
    assert redactor.text("postgresql://citadel_app:s3cr3t-pw@127.0.0.1:5432/citadel_ai") == \
        f"postgresql://citadel_app:{MASK}@127.0.0.1:5432/citadel_ai"
    assert "hunter2" not in redactor.text('{"password": "hunter2"}')
    assert "qd-key" not in redactor.text("api-key: qd-key")


def test_sensitive_headers_are_masked_by_name():
    headers = Redactor().headers({"Authorization": "Token abc", "api-key": "k", "Content-Type": "application/json"})
    assert headers == {"Authorization": MASK, "api-key": MASK, "Content-Type": "application/json"}


def test_plain_text_is_left_alone():
    text = "expected 401 from GET /v1/models, got 200"
    assert Redactor(["zzzz-secret"]).text(text) == text
