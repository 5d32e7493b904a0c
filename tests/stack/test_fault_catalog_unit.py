"""The fault catalog (citadel_stack.faults): one registry, one spec format, parsed once with typed arguments."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from citadel_stack.faults import (CATALOG, DEGRADE_ANN, HIDE_MODEL, LATENCY_CREEP, NO_DONE_MARKER, MODEL_SLOWER,
                                  SLOW_QUERY, SLOW_SCRAPE, WRONG_VECTOR_SIZE, Catalog, Fault, FaultSet, Part,
                                  catalog_page, fault_name, for_part, parse_spec, validate_faults)
from citadel_stack.faults.model import name, whole

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_every_fault_has_a_part_a_description_and_a_valid_example():
    assert len(CATALOG) >= 60
    for fault_name_, fault in CATALOG.items():
        assert isinstance(fault, Fault) and fault.name == fault_name_
        assert isinstance(fault.part, Part)
        assert fault.description.strip() and "|" not in fault.description
        assert parse_spec(fault.example).fault is fault, fault.example


def test_every_part_has_faults():
    assert {fault.part for fault in CATALOG.values()} == set(Part)


def test_a_spec_is_parsed_into_its_fault_and_typed_arguments():
    spec = parse_spec("model_slower:phi3:4")
    assert spec.fault is MODEL_SLOWER and spec.name == "model_slower" and spec.part is Part.GATEWAY
    assert spec.args == ("phi3", 4.0) and isinstance(spec.args[1], float)
    assert str(spec) == spec.text == "model_slower:phi3:4"
    assert parse_spec("degrade_ann:0.3").args == (0.3,)
    assert parse_spec("slow_scrape:15").args == (15.0,) and isinstance(parse_spec("slow_scrape:15").args[0], float)
    assert parse_spec("no_done_marker").args == ()


def test_an_optional_argument_left_out_gets_its_default():
    assert parse_spec("latency_creep:30000:23").args == (30000, 23)
    assert parse_spec("latency_creep:600").args == (600, 0)
    assert LATENCY_CREEP.form == "latency_creep:MS_PER_MIN[:AFTER_S]"


def test_the_argument_form_names_every_argument():
    assert MODEL_SLOWER.form == "model_slower:MODEL:FACTOR"
    assert NO_DONE_MARKER.form == "no_done_marker"
    assert MODEL_SLOWER.example == "model_slower:phi3:4"


@pytest.mark.parametrize("spec, message", [
    ("model_slower", "model_slower needs MODEL:FACTOR, e.g. model_slower:phi3:4, got 'model_slower'"),
    ("model_slower:phi3", "model_slower needs MODEL:FACTOR"),
    ("model_slower:phi3:4:9", "model_slower needs MODEL:FACTOR"),
    ("latency_creep:1:2:3", r"latency_creep needs MS_PER_MIN\[:AFTER_S\]"),
    ("no_done_marker:yes", "fault no_done_marker takes no argument, got 'no_done_marker:yes'"),
])
def test_a_wrong_number_of_arguments_is_refused_at_parse_time(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_spec(spec)


@pytest.mark.parametrize("spec, message", [
    ("model_slower:phi3:soon", "model_slower needs MODEL:FACTOR with FACTOR a number"),
    ("slow_query:-5", "slow_query needs MS with MS a whole number"),
    ("slow_query:2.5", "slow_query needs MS with MS a whole number"),
    ("slow_scrape:fast", "slow_scrape needs SECONDS with SECONDS a number"),
    ("degrade_ann:0", r"degrade_ann needs FRACTION with FRACTION a number in \(0, 1\]"),
    ("degrade_ann:1.5", r"in \(0, 1\]"),
    ("hide_model:", "hide_model needs MODEL with MODEL a name"),
    ("simulated_gpu:melting", "simulated_gpu needs one of healthy, hot, "),
])
def test_an_argument_of_the_wrong_kind_is_refused_at_parse_time(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_spec(spec)


@pytest.mark.parametrize("spec", ["model_slowre:phi3:1", "", ":1", 5, None])
def test_an_unknown_name_is_refused_listing_the_known_ones(spec):
    with pytest.raises(ValueError, match=r"unknown fault .*; known faults: accept_unknown_key, ") as info:
        parse_spec(spec)
    assert all(known in str(info.value) for known in CATALOG)


def test_validate_faults_names_every_unknown_one_and_returns_the_parsed_set():
    with pytest.raises(ValueError, match=r"unknown fault\(s\) no_such_fault, slow_modle:1; known faults: accept_unknown_key"):
        validate_faults(["no_done_marker", "no_such_fault", "slow_modle:1"])
    with pytest.raises(ValueError, match="table_lock needs MS"):
        validate_faults(["table_lock:soon"])
    assert validate_faults(["table_lock:120"]).number(CATALOG["table_lock"]) == 120
    assert not validate_faults([])


def test_a_fault_set_answers_what_the_parts_ask():
    faults = FaultSet.parse(["hide_model:phi3", "hide_model:hermes", "slow_query:80", "no_done_marker"])
    assert NO_DONE_MARKER in faults and "no_done_marker" in faults and MODEL_SLOWER not in faults
    assert faults.names == {"hide_model", "slow_query", "no_done_marker"}
    assert faults.values(HIDE_MODEL) == ["phi3", "hermes"]
    assert faults.value(HIDE_MODEL) == "phi3" and faults.value(WRONG_VECTOR_SIZE) is None
    assert faults.number(SLOW_QUERY) == 80 and faults.number(DEGRADE_ANN) == 0 and faults.number(SLOW_SCRAPE, 7) == 7
    assert faults.args_of(HIDE_MODEL) == [("phi3",), ("hermes",)]
    assert faults.texts() == ["hide_model:phi3", "hide_model:hermes", "slow_query:80", "no_done_marker"]
    with pytest.raises(TypeError):
        faults.number(HIDE_MODEL)


def test_a_part_view_refuses_the_faults_of_other_parts():
    from citadel_stack.gateway.faults import FaultSet as GatewayFaults
    from citadel_stack.vector_store.faults import FaultSet as VectorStoreFaults

    assert GatewayFaults.parse(["model_slower:phi3:4"]).model_slowdowns() == {"phi3": 4.0}
    with pytest.raises(ValueError, match="degrade_ann:0.3 are not the gateway's; its faults: no_done_marker"):
        GatewayFaults.parse(["no_usage", "degrade_ann:0.3"])
    with pytest.raises(ValueError, match="not the vector_store's; its faults: degrade_ann, ignore_filter, slow_search"):
        VectorStoreFaults.parse(["vector_store_down"])


def test_for_part_keeps_the_specs_as_given():
    specs = ["slow_scrape:15", "no_usage", "degrade_ann:0.30", "vector_store_down"]
    assert for_part(specs, Part.PROMETHEUS) == ["slow_scrape:15"]
    assert for_part(specs, "vector_store") == ["degrade_ann:0.30"]
    assert for_part(specs, Part.STACK) == ["vector_store_down"]
    assert fault_name("model_slower:phi3:4") == "model_slower"


def test_the_parts_of_the_part_views_come_from_the_one_catalog():
    from citadel_stack.gateway.faults import KNOWN_FAULTS as GATEWAY
    from citadel_stack.vector_store.faults import KNOWN_FAULTS as VECTOR_STORE

    assert all(CATALOG[n] is f and f.part is Part.GATEWAY for n, f in GATEWAY.items())
    assert set(VECTOR_STORE) == {"degrade_ann", "ignore_filter", "missing_payload_index", "slow_search"}


def test_a_registry_refuses_a_name_twice_a_missing_description_and_a_required_argument_after_an_optional_one():
    catalog = Catalog()
    catalog.define("x", Part.STACK, "does x")
    with pytest.raises(ValueError, match="defined twice"):
        catalog.define("x", Part.STACK, "does x again")
    with pytest.raises(ValueError, match="needs a description"):
        catalog.define("y", Part.STACK, " ")
    with pytest.raises(ValueError, match="only its last arguments may be optional"):
        catalog.define("z", Part.STACK, "does z", whole("A", "1", default=0), name("B", "b"))


def test_the_page_has_one_row_per_fault_with_its_form_and_part():
    page = catalog_page()
    assert page.splitlines()[0].startswith("<!-- Generated ") and "python -m citadel_stack.faults" in page.splitlines()[0]
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    assert len(rows) == len(CATALOG)
    assert "| `model_slower:MODEL:FACTOR` | gateway | chat answers of MODEL take FACTOR times as long" in page


def test_the_module_prints_the_page():
    done = subprocess.run([sys.executable, "-m", "citadel_stack.faults"], capture_output=True, text=True, timeout=60,
                          cwd=REPO_ROOT)
    assert done.returncode == 0 and done.stdout == catalog_page()
