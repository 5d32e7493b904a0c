"""The catalog of faults the embedded stack can be started with (self-test only): one registry, one spec format.

A fault is named at launch as ``name`` or ``name:arg:arg`` (``--fault model_slower:phi3:4``, or
``-D faults=...`` for behave). Each is defined once, in ``catalog.py``, with the part it breaks (gateway,
vector_store, postgres, prometheus, stack), what it does and its argument form. The gateway, the vector
store, Prometheus' configuration and the launcher parse the specs they are given with ``FaultSet.parse``
(typed, validated arguments) and ask ``MODEL_SLOWER in faults``, ``faults.value(SLOW_QUERY, 0)``.

    python -m citadel_stack.faults     # the catalog as a Markdown table (docs/faults.md)
"""
from __future__ import annotations

from .catalog import *  # noqa: F401,F403 (CATALOG and one constant per fault)
from .catalog import CATALOG
from .fault_set import FaultSet, fault_name, for_part, validate_faults
from .model import Arg, Catalog, Fault, FaultSpec, Part
from .table import catalog_page


def parse_spec(spec: object) -> FaultSpec:
    """One spec parsed against the catalog (``model_slower:phi3:4`` -> MODEL_SLOWER with ``("phi3", 4.0)``)."""
    return CATALOG.parse(spec)
