"""The catalog as a Markdown page (docs/faults.md is this page, generated: ``python -m citadel_stack.faults``)."""
from __future__ import annotations

from .catalog import CATALOG
from .model import Part

GENERATE = ".venv/bin/python -m citadel_stack.faults > docs/faults.md"
HEADER = (f"<!-- Generated from citadel_stack/faults/catalog.py by `{GENERATE}`: edit the catalog, "
          "not this file (tests/test_spec.py checks they agree). -->")


def catalog_page() -> str:
    """docs/faults.md: a one-line header, a title, and one table row per fault, part by part."""
    lines = [
        HEADER,
        "",
        "# Faults of the embedded stack",
        "",
        "The embedded stack can be started with named faults, for the suite's self-test only: each breaks one promise "
        "of the contract, so that the scenarios guarding it can be shown to fail (`tests/selftest/test_fault_catalog.py`). "
        "Name them at launch as `NAME` or `NAME:ARG:ARG` (`--fault` of `python -m citadel_stack start`, or "
        "`-D faults=NAME,...` for behave).",
        "",
        "| fault | part | what it breaks |",
        "|---|---|---|",
    ]
    for part in Part:
        for fault in CATALOG.of_part(part).values():
            lines.append(f"| `{fault.form}` | {part.value} | {_cell(fault.description)} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
