"""Profiles: loading, inheritance, validation, command-line overrides and secrets."""
from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import pytest

from citadel_acceptance.errors import SuiteConfigError
from citadel_acceptance.config import database, endpoints, gpu, load, monitoring, operations, security, soak, stack
from citadel_acceptance.config.load import LoadSettings
from citadel_acceptance.config.monitoring import MonitoringSettings
from citadel_acceptance.config.profile import load_profile
from citadel_acceptance.config.security import FuzzSettings
from citadel_acceptance.config.soak import SoakSettings
from citadel_acceptance.config.thresholds import Threshold, ThresholdOverride

REPO = Path(__file__).resolve().parents[2]
PROFILES = REPO / "profiles"
SECTIONS = [cls for module in (database, endpoints, gpu, load, monitoring, operations, security, soak, stack)
            for cls in vars(module).values() if dataclasses.is_dataclass(cls) and cls.__module__ == module.__name__]
SECTIONS += [Threshold, ThresholdOverride]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_plan_profile_has_every_contract_number():
    profile = load_profile("citadel-mvp2")
    thresholds = profile.thresholds
    assert thresholds["latency.response_ms"].per_model == {"mixtral": 1500, "hermes": 1000, "openchat": 800, "phi3": 300}
    assert thresholds["throughput.rps"].per_model["phi3"] == 50
    assert thresholds["database.query_ms"].value == 50 and thresholds["vector.search_ms"].value == 150
    assert profile.mode == "external" and profile.gateway.base_url.endswith(":8000")
    assert set(profile.models) == {"mixtral", "hermes", "openchat", "phi3"}


def test_embedded_extends_the_plan_and_replaces_services_and_models():
    profile = load_profile("embedded")
    assert profile.embedded and profile.allow_destructive
    assert set(profile.services) == {"smollm2", "smollm2-embed"}  # replaced, not merged with the plan's services
    assert set(profile.routes.values()) == {"smollm2"}
    assert profile.thresholds["database.query_ms"].value == 50  # inherited from the plan
    assert profile.overrides["latency.response_ms"].reason


def test_embedded_single_answers_are_the_request_the_calibration_timed():
    """The single-answer gate is a multiple of the calibrated answer (load's length): both must be as long."""
    profile = load_profile("embedded")
    assert profile.overrides["latency.response_ms"].calibrated == "chat_answer_ms"
    assert profile.probe.max_tokens == profile.load.max_tokens and profile.probe.prompt == profile.load.prompt


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
                                            "gateway.verify_tls": "no", "thresholds.database.query_ms.value": "40"})
    assert profile.gateway.base_url == "https://citadel.example:8443"
    assert profile.gateway.timeout_s == 5.0 and profile.gateway.verify_tls is False
    assert profile.thresholds["database.query_ms"].value == 40


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


MINIMAL = """
[stack]
mode = "external"
[secrets]
api_key = "CITADEL_API_KEY"
[gateway]
base_url = "http://gateway.example:8000"
[services.s]
url = "http://service.example:1"
[models.m]
service = "s"
[probe]
prompt = "Say hello."
max_tokens = 4
[capabilities]
provides = ["chat"]
"""


def test_the_profile_is_a_frozen_typed_tree_without_raw_tables():
    profile = load_profile("embedded")
    assert isinstance(profile.load, LoadSettings) and isinstance(profile.monitoring, MonitoringSettings)
    assert isinstance(profile.security.fuzz, FuzzSettings) and isinstance(profile.thresholds["gpu.count"], Threshold)
    assert not hasattr(profile, "raw")
    with pytest.raises(dataclasses.FrozenInstanceError):
        profile.load.window_s = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        profile.thresholds["gpu.count"] = profile.thresholds["gpu.memory_gb"]  # type: ignore[index]
    assert profile.monitoring.scrape_jobs == ("citadel-gateway", "qdrant")  # lists become tuples
    assert profile.load.normal_rps == 1.0 and isinstance(profile.load.normal_rps, float)  # written as 1


@pytest.mark.parametrize("old, new, message", [
    ("seed = 20261124", "seeds = 20261124", r"unknown key 'security\.fuzz\.seeds'.*Known keys here: .*seed"),
    ('unit = "GPUs"', 'units = "GPUs"', r"unknown key 'thresholds\.gpu\.count\.units'"),
    ('[thresholds."gpu.count"]', '[targets."gpu.count"]', r"unknown key 'targets'.*thresholds"),
])
def test_an_unknown_key_is_named_by_its_dotted_path_and_the_file(tmp_path, old, new, message):
    path = write(tmp_path, "typo", (PROFILES / "citadel-mvp2.toml").read_text().replace(old, new, 1))
    with pytest.raises(SuiteConfigError, match=message) as caught:
        load_profile("typo", directory=tmp_path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("old, new, message", [
    ('scrape_jobs = ["citadel-gateway", "qdrant"]', 'scrape_jobs = "citadel-gateway"',
     r"monitoring\.scrape_jobs must be a list, not 'citadel-gateway'"),
    ("verify_tls = true", 'verify_tls = "yes"', r"gateway\.verify_tls must be bool, not 'yes'"),
    ('public_paths = ["/health",', 'public_paths = [3,', r"security\.public_paths\[0\] must be str, not 3"),
    ("max_examples = 3", "max_examples = 2.5", r"security\.fuzz\.max_examples must be int, not 2\.5"),
    ('unit = "GPUs"', 'unit = "GPUs"\nper_model = 2', r"thresholds\.gpu\.count\.per_model must be a table"),
])
def test_a_wrong_type_is_named_by_its_dotted_path(tmp_path, old, new, message):
    text = (PROFILES / "citadel-mvp2.toml").read_text()
    assert old in text
    write(tmp_path, "typed", text.replace(old, new, 1))
    with pytest.raises(SuiteConfigError, match=message):
        load_profile("typed", directory=tmp_path)


@pytest.mark.parametrize("old, new, message", [
    ("[probe]\n", "[prob]\n", r"unknown key 'prob'"),
    ('[probe]\nprompt = "Say hello."\nmax_tokens = 4\n', "", r"the section \[probe\] is missing, and it is required"),
    ('[stack]\nmode = "external"\n', "[stack]\n", r"stack\.mode is required"),
    ('[models.m]\nservice = "s"\n', "", r"the section \[models\] is missing"),
])
def test_a_missing_required_section_or_value_fails_at_load(tmp_path, old, new, message):
    assert old in MINIMAL
    write(tmp_path, "short", MINIMAL.replace(old, new))
    with pytest.raises(SuiteConfigError, match=message):
        load_profile("short", directory=tmp_path)


def test_values_a_profile_leaves_out_are_the_sections_defaults(tmp_path):
    write(tmp_path, "minimal", MINIMAL)
    profile = load_profile("minimal", directory=tmp_path)
    assert profile.name == "minimal" and profile.vector is None and profile.embedding_model is None
    assert profile.load == LoadSettings(prompt="Say hello.")  # the probe's prompt, the one cross-section default
    assert profile.soak == SoakSettings(model="m")  # the first model
    for name in ("gateway", "database", "operations", "security", "gpu", "monitoring", "embeddings"):
        section_type = type(getattr(profile, name))
        expected = section_type(base_url="http://gateway.example:8000") if name == "gateway" else section_type()
        assert getattr(profile, name) == expected, name
    assert dict(profile.thresholds) == {} and dict(profile.overrides) == {}


def test_each_default_is_written_once_in_its_section():
    """No module reads a profile value with a default of its own: `.get("key", default)` is gone."""
    keys = {f.metadata.get("key", f.name) for cls in SECTIONS for f in dataclasses.fields(cls) if "_" in f.name}
    found = []
    for path in [*(REPO / "citadel_acceptance").rglob("*.py"), *(REPO / "steps").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                    and len(node.args) == 2 and isinstance(node.args[0], ast.Constant) and node.args[0].value in keys:
                found.append(f"{path.relative_to(REPO)}:{node.lineno} .get({node.args[0].value!r}, ...)")
    assert found == []
    defaults = [f.default for cls in SECTIONS for f in dataclasses.fields(cls)
                if isinstance(f.default, str) and len(f.default) > 20]
    for text in defaults:  # the long ones are distinctive: each appears in exactly one module of the library
        holders = [p for p in (REPO / "citadel_acceptance").rglob("*.py") if repr(text) in p.read_text()
                   or f'"{text}"' in p.read_text()]
        assert len(holders) == 1, (text, holders)


def test_an_override_of_a_value_left_to_its_default_is_typed_by_its_field():
    profile = load_profile("citadel-mvp2", {"gpu.timeout_s": "5", "load.normal_rps": "0.5",
                                            "monitoring.scrape_jobs": "a, b", "thresholds.gpu.count.value": "4"})
    assert profile.gpu.timeout_s == 5.0 and profile.load.normal_rps == 0.5
    assert profile.monitoring.scrape_jobs == ("a", "b") and profile.thresholds["gpu.count"].value == 4.0
    with pytest.raises(SuiteConfigError, match=r"has no table 'targets' \(\[targets\] is now \[thresholds\]\)"):
        load_profile("citadel-mvp2", {"targets.gpu.count.value": "4"})
    with pytest.raises(SuiteConfigError, match=r"has no table 'nope'"):
        load_profile("citadel-mvp2", {"thresholds.nope.value": "4"})


def test_with_endpoints_points_the_typed_sections_at_a_running_stack():
    profile = load_profile("embedded").with_endpoints(
        "http://127.0.0.1:1/", {"smollm2": "http://127.0.0.1:2", "smollm2-embed": "http://127.0.0.1:3"},
        "http://127.0.0.1:4", gateway_log="/tmp/gateway.jsonl", prometheus_url="http://127.0.0.1:5/")
    assert profile.gateway.base_url == "http://127.0.0.1:1" and profile.services["smollm2"].url == "http://127.0.0.1:2"
    assert profile.services["smollm2"].model == "smollm2" and profile.vector.url == "http://127.0.0.1:4"
    assert profile.operations.gateway_log == "/tmp/gateway.jsonl"
    assert profile.monitoring.prometheus_url == "http://127.0.0.1:5"


def test_the_embedded_stack_gets_plain_settings_from_the_typed_sections():
    from citadel_acceptance.target import embedded as embedded_target
    from citadel_stack import launcher

    values = embedded_target.stack_settings(load_profile("embedded"), ("no_done_marker",))
    assert set(values) == {"routes", "faults", "monitoring", "model_package", "model_file", "upstream_model", "n_ctx",
                           "n_threads", "embedding_model", "embedding_service", "vector_collection", "vector_size",
                           "retention_days"}
    assert values["routes"] == {"mixtral": "smollm2", "hermes": "smollm2", "openchat": "smollm2", "phi3": "smollm2"}
    assert values["embedding_service"] == "smollm2-embed" and values["vector_size"] == 576
    assert values["monitoring"]["stack_anomaly_window"] == "10s" and values["monitoring"]["scrape_jobs"] == ["citadel-gateway", "qdrant"]
    assert json.loads(json.dumps(values["monitoring"])) == values["monitoring"]  # plain: the stack keeps it in its state file
    assert launcher.StackSettings.from_mapping(values).faults == ("no_done_marker",)
