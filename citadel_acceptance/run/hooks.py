"""What environment.py's hooks do, kept here so that the hooks stay one line each.

`context` is behave's context object; this module only reads and sets attributes on it.
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from citadel_acceptance.errors import EnvironmentNotReady, SuiteConfigError
from citadel_acceptance.report.evidence import ENVIRONMENT_NOT_READY, Evidence, write_run_files
from citadel_acceptance.checks.gpu import GpuReader
from citadel_acceptance.report.redaction import Redactor
from citadel_acceptance.report.protection import make_private, scan_for_secrets
from citadel_acceptance.run.preflight import run_preflight
from citadel_acceptance.run.session import REPO_ROOT, open_session

ALLURE_FORMATTER = "allure_behave.formatter:AllureFormatter"
KEEP_IN_RESULTS = {".gitkeep", "history"}


def results_dir(config: Any) -> Path | None:
    """The directory the Allure formatter writes to, or None when it is not among the formatters."""
    for name, outfile in zip(config.format or [], config.outfiles or []):
        if name == ALLURE_FORMATTER:
            return Path(outfile)
    return None


def clean_results(directory: Path) -> None:
    """Empty the results of the previous run (Allure's history is kept for trends)."""
    if not directory.exists():
        return
    for entry in directory.iterdir():
        if entry.name in KEEP_IN_RESULTS:
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


RUN_STATE_VARIABLE = "CITADEL_RUN_STATE_FILE"  # set by the accept command: how far the suite got, for its summary


def record_run_state(**state: str) -> None:
    """Tell the accept command how far the suite got ("started", or the configuration error that stopped it) and
    where the gate list went (`gates_file`); each call adds to what the run recorded before."""
    target = os.environ.get(RUN_STATE_VARIABLE)
    if target:
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        except ValueError:
            known = {}
        path.write_text(json.dumps({**(known if isinstance(known, dict) else {}), **state}), encoding="utf-8")


def open_run(context: Any) -> None:
    """Load the profile and reach the target; an unreachable target is remembered, not raised."""
    context.run_started = time.time()
    record_run_state(stage="started")
    context.results_dir = results_dir(context.config)
    if context.results_dir is not None:
        clean_results(context.results_dir)
        make_private(context.results_dir)
    context.session = None
    context.not_ready = ""
    context.evidence = Evidence(redactor=Redactor(), results_dir=context.results_dir or REPO_ROOT / "allure-results")
    context.config_error = ""
    try:
        context.session = open_session(dict(context.config.userdata))
    except SuiteConfigError as exc:
        context.config_error = str(exc)
        record_run_state(stage="configuration error", error=str(exc))
        raise
    except EnvironmentNotReady as exc:
        context.not_ready = str(exc)
        print(f"\n{ENVIRONMENT_NOT_READY}: {exc}\n", flush=True)
        return
    context.evidence.redactor = context.session.redactor
    context.thresholds = context.session.thresholds
    context.gpu = GpuReader.for_profile(context.session.profile)  # asked once, when a scenario first needs it
    context.preflight = run_preflight(context.session, context.gpu.unavailable_reason)
    print("\n" + context.preflight.table() + "\n", flush=True)
    context.preflight.write(context.session.options.reports_dir / "preflight.json")
    context.blocked = ""
    fail_blocked_steps(context)


def fail_blocked_steps(context: Any) -> None:
    """Make every step of a scenario the pre-flight check blocked fail with its one sentence (`context.blocked`):
    the scenario fails in its first step, with no traceback, and its other steps are skipped. A step of any other
    scenario that finds a part of the target unreachable (EnvironmentNotReady) fails the same way, with the
    sentence, never as a broken step with a traceback."""
    registry = context._runner.step_registry
    find_match = registry.find_match

    def blocked_or_found(step: Any) -> Any:
        match = find_match(step)
        if match is None:
            return match
        reason = getattr(context, "blocked", "")
        guarded = copy.copy(match)
        if reason:
            def fail(*_args: Any, **_kwargs: Any) -> None:
                raise AssertionError(reason)

            guarded.func = fail
        else:
            guarded.func = not_ready_as_a_failure(match.func)
        return guarded

    registry.find_match = blocked_or_found


def not_ready_as_a_failure(func: Any) -> Any:
    """`func`, an EnvironmentNotReady it raises turned into a failed assertion saying "ENVIRONMENT NOT READY: ..."."""
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EnvironmentNotReady as exc:
            text = str(exc)
            raise AssertionError(text if text.startswith(ENVIRONMENT_NOT_READY)
                                 else f"{ENVIRONMENT_NOT_READY}: {text}") from None
    run.__wrapped__ = func  # type: ignore[attr-defined]
    return run


def criterion_of(tags: list[str]) -> str:
    """The success criterion a scenario proves, from its `allure.story:SCn` tag."""
    for tag in tags:
        if tag.startswith("allure.story:"):
            return tag.split(":", 1)[1]
    return "unassigned"


def prepare_scenario(context: Any, scenario: Any) -> None:
    """Skip with a reason what this target cannot run; fail as 'not ready' when the target is unreachable."""
    tags = list(scenario.effective_tags)
    context.evidence.enter_scenario(scenario.feature.name, scenario.name, criterion_of(tags))
    context.resolved_before = len(context.thresholds.resolved) if getattr(context, "thresholds", None) else 0
    reason = skip_reason(context, tags)
    context.blocked = ""
    if reason:
        context.evidence.record_skip(scenario.name, reason)
        scenario.skip(reason=reason)
    elif getattr(context, "preflight", None) is not None:
        needs = [t.split(".", 1)[1] for t in tags if t.startswith("requires.")]
        finding = context.preflight.blocking(needs)
        context.blocked = finding.failure(context.session.profile.name) if finding else ""


def finish_scenario(context: Any, scenario: Any) -> None:
    """A scenario a step skipped (`scenario.skip(reason)`) keeps its reason in the evidence, like the hooks' skips;
    every threshold the scenario resolved is in the gate list, judged or not."""
    if getattr(context, "thresholds", None) is not None:
        context.evidence.record_applied(context.thresholds.resolved[getattr(context, "resolved_before", 0):])
    reason = getattr(scenario, "skip_reason", None)
    if reason and getattr(scenario.status, "name", "") == "skipped" and scenario.name not in context.evidence.skip_reasons:
        context.evidence.record_skip(scenario.name, reason)


NOT_APPLICABLE = "NOT APPLICABLE"


def skip_reason(context: Any, tags: list[str]) -> str:
    """Why this target cannot run a scenario with these tags ('' when it can)."""
    if context.not_ready:
        return f"{ENVIRONMENT_NOT_READY}: {context.not_ready}"
    session = context.session
    missing = [t.split(".", 1)[1] for t in tags if t.startswith("requires.") and not session.profile.provides(t.split(".", 1)[1])]
    if missing:
        names = ", ".join(sorted(set(missing)))
        return (f"{NOT_APPLICABLE}: profile {session.profile.name!r} does not declare {names} among the capabilities "
                "the deployment provides ([capabilities] provides)")
    if "mutates" in tags and not session.allow_mutation:
        return ("@mutates scenarios write to or delete from the deployment's data; this profile does not allow them. "
                "Opt in with -D allow_mutation=yes on a deployment whose data you may touch")
    if "destructive" in tags and not session.allow_destructive:
        return ("@destructive scenarios stop or restart parts of the target; this profile does not allow them. "
                "Opt in with -D allow_destructive=yes on a staging deployment you may disturb: only such a run "
                "proves the recovery promises of SC4")
    if "requires.gpu" in tags and context.gpu.unavailable_reason():
        return f"@requires.gpu: no GPU can be read through {context.gpu.settings.source}: {context.gpu.unavailable_reason()}"
    if "requires.prometheus" in tags and session.prometheus_unavailable():
        return f"@requires.prometheus: {session.prometheus_unavailable()}"
    if "destructive" in tags and not session.can_control_parts():
        return ("@destructive: the suite cannot stop and start parts of this target (it controls the embedded "
                "stack's parts only), so SC4's recovery promises stay unproven here; docs/deployment.md says how "
                "SC4 is proven")
    return ""


def close_run(context: Any) -> None:
    """Write the run's evidence files and stop what this run started, whatever happened before."""
    session = context.session
    if session is not None:
        problems = session.remove_test_data(interrupted=bool(getattr(context, "aborted", False)))
        if problems:
            print(f"\nTEST DATA NOT REMOVED ({len(problems)}): " + "; ".join(problems), flush=True)
        properties = session.properties()
        properties["run.test_data_left"] = "; ".join(problems) or "none"
        if getattr(context, "preflight", None) is not None:
            properties.update(context.preflight.properties())
        if getattr(context, "gpu", None) is not None:  # GPU models, driver, CUDA; or why none can be read
            properties.update(context.gpu.facts())
    else:
        properties = {"profile": str(context.config.userdata.get("profile", "?")),
                      "run.error": context.config_error or context.not_ready or "the run did not start"}
    properties["run.duration_s"] = f"{time.time() - context.run_started:.1f}"
    if context.results_dir is not None:
        write_run_files(context.results_dir, properties, context.evidence.redactor)
        context.evidence.apply_skip_reasons()
    reports_dir = (session.options.reports_dir if session is not None
                   else (REPO_ROOT / str(context.config.userdata.get("reports_dir", "reports"))).resolve())
    context.evidence.write_gates(reports_dir / "gates.json")
    record_run_state(gates_file=str(reports_dir / "gates.json"))  # wherever -D reports_dir put it
    if session is not None:
        session.close()
    leaks = scan_for_secrets([d for d in (context.results_dir, reports_dir) if d is not None], context.evidence.redactor.secrets)
    if leaks:
        raise AssertionError(f"SECRETS FOUND IN THE EVIDENCE of this run, in {len(leaks)} file(s): {leaks[:5]}. "
                             "The redactor missed them: treat every secret of this run as leaked and rotate it.")
    if context.not_ready:
        # Every scenario was skipped; the run must still fail: nothing about the product was learnt. behave frames
        # the exception as "HOOK-ERROR in after_all": the line before it says the failure is deliberate.
        print(f"\nCITADEL RUN FAILED ON PURPOSE: {ENVIRONMENT_NOT_READY}: {context.not_ready}\nNo scenario could "
              "test the product; the evidence is written. This is not a crash of the suite: behave reports it as a "
              "hook error below.\n", file=sys.stderr, flush=True)
        raise EnvironmentNotReady(f"{ENVIRONMENT_NOT_READY}: {context.not_ready}")
