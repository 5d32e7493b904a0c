"""Write tests/durations.json from the JUnit XML of a `make test` run (reports/test-timings/*.xml).

`make test` orders its side-by-side phase by these figures (tests/conftest.py): the longest tests first, spread
over the workers so that no worker is left with most of them. Only tests of a second or more are kept; the
figures are of one machine, and only their order matters. Usage: .venv/bin/python tools/durations.py [DIR]
"""
from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "tests" / "durations.json"


def node_id(classname: str, name: str) -> str:
    """pytest's node id of a JUnit test case (`tests.unit.test_x` + `test_y[a]` -> `tests/unit/test_x.py::test_y[a]`)."""
    module, _, cls = classname.partition(".Test")
    path = module.replace(".", "/") + ".py"
    return f"{path}::Test{cls}::{name}" if cls else f"{path}::{name}"


def main(directory: Path) -> int:
    files = sorted(directory.glob("*.xml"))
    if not files:
        print(f"no JUnit XML under {directory}: run `make test` first", file=sys.stderr)
        return 2
    seconds = {}
    for file in files:
        for case in ET.parse(file).iter("testcase"):
            took = float(case.get("time") or 0)
            if took >= 1:
                seconds[node_id(case.get("classname", ""), case.get("name", ""))] = round(took)
    TARGET.write_text(json.dumps(dict(sorted(seconds.items())), indent=1) + "\n")
    print(f"{len(seconds)} tests of a second or more from {len(files)} file(s) -> {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "reports" / "test-timings"))
