"""Profiles: loading, inheritance, validation, command-line overrides and secrets."""
from __future__ import annotations

from pathlib import Path

import pytest

from citadel_acceptance.errors import SuiteConfigError
from citadel_acceptance.config.profile import load_profile

PROFILES = Path(__file__).resolve().parents[2] / "profiles"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_plan_profile_has_every_contract_number():
    profile = load_profile("citadel-mvp2")
    targets = profile.raw["targets"]
    assert targets["latency.response_ms"]["per_model"] == {"mixtral": 1500, "hermes": 1000, "openchat": 800, "phi3": 300}
    assert targets["throughput.rps"]["per_model"]["phi3"] == 50
    assert targets["database.query_ms"]["value"] == 50 and targets["vector.search_ms"]["value"] == 150
    assert profile.mode == "external" and profile.gateway.base_url.endswith(":8000")
    assert set(profile.models) == {"mixtral", "hermes", "openchat", "phi3"}


def test_embedded_extends_the_plan_and_replaces_services_and_models():
    profile = load_profile("embedded")
    assert profile.embedded and profile.allow_destructive
    assert set(profile.services) == {"smollm2", "smollm2-embed"}  # replaced, not merged with the plan's services
    assert set(profile.models.values()) == {"smollm2"}
    assert profile.raw["targets"]["database.query_ms"]["value"] == 50  # inherited from the plan
    assert profile.raw["overrides"]["latency.response_ms"]["reason"]


def test_missing_profile_names_the_known_ones():
    with pytest.raises(SuiteConfigError, match=r"profile 'nope' does not exist.*Known profiles: citadel-mvp2, embedded"):
        load_profile("nope")


def test_toml_that_does_not_parse_is_named(tmp_path):
    write(tmp_path, "broken", "[gateway\nbase_url = 1\n")
    with pytest.raises(SuiteConfigError, match=r"broken.toml is not valid TOML"):
        load_profile("broken", directory=tmp_path)


def test_unknown_key_is_refused_with_the_known_ones(tmp_path):
    text = (PROFILES / "citadel-mvp2.toml").read_text().replace('chat_path =', 'chat_pth =')
    write(tmp_path, "typo", text)
    with pytest.raises(SuiteConfigError, match=r"unknown key 'gateway.chat_pth'.*Known keys here: .*chat_path"):
        load_profile("typo", directory=tmp_path)


def test_wrong_type_is_refused(tmp_path):
    text = (PROFILES / "citadel-mvp2.toml").read_text().replace("timeout_s = 60.0", 'timeout_s = "slow"')
    write(tmp_path, "typed", text)
    with pytest.raises(SuiteConfigError, match=r"gateway.timeout_s must be int or float"):
        load_profile("typed", directory=tmp_path)


def test_override_without_reason_is_refused(tmp_path):
    write(tmp_path, "base", (PROFILES / "citadel-mvp2.toml").read_text())
    write(tmp_path, "lax", 'extends = "base"\n[overrides."vector.search_ms"]\nvalue = 900\n')
    with pytest.raises(SuiteConfigError, match=r"needs a `reason`"):
        load_profile("lax", directory=tmp_path)


def test_command_line_overrides_are_typed():
    profile = load_profile("citadel-mvp2", {"gateway.base_url": "https://citadel.example:8443", "gateway.timeout_s": "5",
                                            "gateway.verify_tls": "no", "targets.database.query_ms.value": "40"})
    assert profile.gateway.base_url == "https://citadel.example:8443"
    assert profile.gateway.timeout_s == 5.0 and profile.gateway.verify_tls is False
    assert profile.raw["targets"]["database.query_ms"]["value"] == 40


@pytest.mark.parametrize("dotted, message", [
    ("gateway.base_ulr", r"has no value 'gateway.base_ulr'"),
    ("gatway.base_url", r"has no table 'gatway'"),
])
def test_unknown_override_is_refused(dotted, message):
    with pytest.raises(SuiteConfigError, match=message):
        load_profile("citadel-mvp2", {dotted: "x"})


def test_badly_typed_override_is_refused():
    with pytest.raises(SuiteConfigError, match=r"expected a float"):
        load_profile("citadel-mvp2", {"gateway.timeout_s": "soon"})


def test_missing_secret_names_the_variable_and_the_fix():
    profile = load_profile("citadel-mvp2")
    with pytest.raises(SuiteConfigError, match=r"CITADEL_API_KEY.*Export each variable"):
        profile.check_secrets({})
    profile.check_secrets({"CITADEL_API_KEY": "k", "CITADEL_DATABASE_DSN": "postgresql://u:p@h/db",
                           "CITADEL_QDRANT_API_KEY": "q", "CITADEL_DATABASE_ADMIN_DSN": "postgresql://a:b@h/db"})
    assert profile.secret("api_key", {"CITADEL_API_KEY": "k"}) == "k"


def test_external_profile_needs_a_gateway_url():
    with pytest.raises(SuiteConfigError, match=r"gateway.base_url must be an http\(s\) URL"):
        load_profile("citadel-mvp2", {"gateway.base_url": "citadel:8000"})


def test_model_routed_to_an_undefined_service_is_refused(tmp_path):
    text = (PROFILES / "citadel-mvp2.toml").read_text().replace('[models.phi3]\nservice = "phi3"', '[models.phi3]\nservice = "phi4"')
    write(tmp_path, "route", text)
    with pytest.raises(SuiteConfigError, match=r"model 'phi3' is routed to service 'phi4'"):
        load_profile("route", directory=tmp_path)
