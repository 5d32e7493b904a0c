"""behave hooks: load the profile, start or attach to the target, share the clients, write the evidence.

Hooks only: everything they do lives in the `citadel_acceptance` library.
"""
from __future__ import annotations

import sys

from citadel_acceptance.run import hooks as run_hooks
from citadel_acceptance.errors import SuiteConfigError


def before_all(context):
    """Open the run session once; a configuration mistake stops the run here with one clear message."""
    try:
        run_hooks.open_run(context)
    except SuiteConfigError as exc:
        print(f"\nCITADEL SUITE CANNOT START: {exc}\n", file=sys.stderr, flush=True)
        raise


def before_feature(context, feature):
    """Nothing per feature yet: scenarios carry their own criterion."""


def before_scenario(context, scenario):
    """Skip what this target cannot run (with the reason) and point the evidence at the scenario."""
    run_hooks.prepare_scenario(context, scenario)


def after_scenario(context, scenario):
    """Keep the reason of a skip decided inside a step (an unsupported feature of the target)."""
    run_hooks.finish_scenario(context, scenario)


def after_all(context):
    """Write environment.properties, executor.json, categories.json and the gate list; stop what we started."""
    run_hooks.close_run(context)
