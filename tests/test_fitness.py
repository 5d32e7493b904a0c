"""The layers hold: who may import whom (read from the source with ast, nothing is imported or run).

- the reference stack never imports the suite (the suite judges any Citadel; the stack is one of them);
- the suite imports the stack in its embedded adapter only;
- steps import behave, the library's public modules and a few harmless standard modules: no HTTP, SQL or
  vector clients, no stack, no other step module (behave executes every file of steps/);
- the library never imports behave;
- the package's top level stays small and every subpackage says in one line what it holds.
"""
from __future__ import annotations

import ast
from pathlib import Path

from tests.harness import REPO_ROOT

SUITE = REPO_ROOT / "citadel_acceptance"
STACK = REPO_ROOT / "citadel_stack"
STEPS = REPO_ROOT / "steps"
EMBEDDED_ADAPTER = SUITE / "target" / "embedded.py"
STEP_STDLIB = {"__future__", "pathlib", "typing", "dataclasses", "json", "re", "time"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports (absolute names; relative imports resolved against its package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = path.relative_to(REPO_ROOT).parent.parts
                base = ".".join(package[: len(package) - node.level + 1])
                found.add(f"{base}.{node.module}" if node.module else base)
            else:
                found.add(node.module or "")
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def importers_of(tree: Path, prefix: str) -> list[str]:
    """Files under `tree` that import `prefix` or anything inside it."""
    return sorted(str(f.relative_to(REPO_ROOT)) for f in tree.rglob("*.py")
                  if any(m == prefix or m.startswith(prefix + ".") for m in imported_modules(f)))


def test_the_stack_never_imports_the_suite():
    assert importers_of(STACK, "citadel_acceptance") == []


def test_the_suite_imports_the_stack_in_its_embedded_adapter_only():
    assert importers_of(SUITE, "citadel_stack") == [str(EMBEDDED_ADAPTER.relative_to(REPO_ROOT))]


def test_the_library_never_imports_behave():
    assert importers_of(SUITE, "behave") == []


def test_steps_import_only_behave_the_library_and_harmless_standard_modules():
    wrong = {}
    for module in sorted(STEPS.glob("*.py")):
        for name in imported_modules(module):
            top = name.split(".")[0]
            private = any(part.startswith("_") for part in name.split(".")[1:])
            allowed = (top == "behave" or top in STEP_STDLIB
                       or (top == "citadel_acceptance" and not private and not name.startswith("citadel_acceptance.target.embedded")))
            if not allowed:
                wrong.setdefault(module.name, []).append(name)
    assert wrong == {}, f"steps import what belongs in the library: {wrong}"


def test_the_package_top_level_is_small_and_every_subpackage_says_what_it_holds():
    top_level = sorted(p.name for p in SUITE.glob("*.py"))
    assert len(top_level) <= 4, top_level
    for init in sorted(SUITE.rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and doc.strip(), f"{init.relative_to(REPO_ROOT)} opens with no docstring"
        assert len(doc.splitlines()[0]) <= 160, f"{init.relative_to(REPO_ROOT)}: its first line is not one short line"


def test_the_fitness_rules_themselves_can_fail(tmp_path):
    """The import reader sees an import in each form it must catch."""
    probe = tmp_path / "probe.py"
    probe.write_text("import citadel_stack.launcher\nfrom citadel_stack import state\nfrom behave import given\n")
    found = imported_modules(probe)
    assert {"citadel_stack.launcher", "citadel_stack", "citadel_stack.state", "behave"} <= found
