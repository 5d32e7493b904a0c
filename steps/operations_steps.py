"""Steps for operational tools (SC4): recovery, backup and restore, audited configuration, keys, logs."""
from __future__ import annotations

from pathlib import Path

from behave import given, then, when

from citadel_acceptance.checks.operations import probe as operations
from citadel_acceptance.verdict import Verdict


@given("the model service crashes")
def step_model_service_crashes(context):
    """Kill the first model's service abruptly (SIGKILL), as a crash would; nothing is told to hold off."""
    context.crashed = context.session.profile.routes[sorted(context.session.profile.models)[0]]
    context.session.kill_part(f"model_service:{context.crashed}")


@when("the operator watches the health report until the service is back")
def step_watch_recovery(context):
    """Poll /health until the crashed service is healthy, at most the applied recovery target."""
    context.recovery_gate = context.thresholds.resolve("recovery.mttr_s")
    context.recovery = operations.wait_for_recovery(context.session, context.crashed, context.recovery_gate.applied)


@then("the service is healthy again within {seconds:d} seconds, restarted by the platform")
def step_recovered(context, seconds):
    """Time from the crash to a healthy report, against the mean-time-to-recover target."""
    gate = context.thresholds.resolve("recovery.mttr_s", spec=seconds)
    measured = context.recovery.seconds if context.recovery.seconds is not None else float("inf")
    verdict = gate.check(measured, "time to recover", "first healthy report − crash (health polled every 0.25 s)")
    context.evidence.check(verdict, observed=context.recovery.observed)


@when("the operator backs the database up and restores the backup into a scratch database")
def step_backup_restore(context):
    """The profile's backup and restore commands; the scratch database is dropped afterwards."""
    context.backup = operations.backup_round_trip(context.session, {"stack_dir": str(context.session.options.stack_dir)})


@then("the restored database holds every table with the same rows and content")
def step_restored_equal(context):
    """Row counts and content checksums of every table, before and after."""
    verdict = Verdict.from_problems("backup and restore", operations.backup_problems(context.backup),
                                    "∀ table: (count, md5 of ordered rows) restored == source", context.backup.database)
    context.evidence.check(verdict, steps=context.backup.steps, source=context.backup.source, restored=context.backup.restored)


@when('an operator changes "{setting}" to {value:d} and then rolls the change back')
def step_change_config(context, setting, value):
    """PUT the setting, then roll back, through the admin API; the audit trail is read afterwards."""
    context.config_change = operations.change_and_roll_back(context.session, setting, value)


@then("the audit trail records the change with its values before and after")
def step_change_audited(context):
    """An audit row for the change carries the original and the new value."""
    verdict = Verdict.from_problems("configuration change audited", operations.audit_problems(context.config_change),
                                    "audit row: action config.change, before/after values",
                                    context.session.profile.gateway.audit_path)
    context.evidence.check(verdict, answers=context.config_change.answers, audit=context.config_change.audit)


@then("the rollback restores the original value and is audited too")
def step_rolled_back(context):
    """The setting is back to its original value and the rollback has its own audit row."""
    verdict = Verdict.from_problems("configuration rolled back", operations.rollback_problems(context.config_change),
                                    "setting after rollback == original ∧ audit row config.rollback",
                                    context.config_change.path)
    context.evidence.check(verdict)


@when("an operator lists, rotates and revokes that key")
def step_key_lifecycle(context):
    """The key is listed, rotated (old and new values tried) and revoked (the new value tried again)."""
    context.life = operations.key_lifecycle(context.session, context.user_key)


@then("the rotated key works, the replaced and the revoked values are refused")
def step_lifecycle_holds(context):
    """Each step answered as expected: 200 for working values, 401 for the replaced and revoked ones."""
    verdict = Verdict.from_problems("key lifecycle", operations.lifecycle_problems(context.life),
                                    str(operations.EXPECTED_LIFECYCLE), "/admin/keys")
    context.evidence.check(verdict, statuses=context.life.statuses, listed=context.life.listed)


@when("a client makes a request and notes the request id the gateway gives back")
def step_request_with_id(context):
    """One authenticated request; the request id its answer gives back (the profile's request_id_header) is kept."""
    context.exchange = context.session.gateway.request("GET", context.session.profile.gateway.models_path)
    context.answer_request_id = context.session.gateway.request_id_of(context.exchange)


@then("the gateway's log has a structured JSON line for that request id")
def step_log_line(context):
    """The gateway's log (the profile's `operations.gateway_log`) has a JSON line with that request id."""
    rid = context.answer_request_id
    lines, parsed = operations.log_lines_for(Path(context.session.profile.operations.gateway_log), rid)
    verdict = Verdict.from_problems("structured log", operations.structured_log_problems(rid, lines, parsed),
                                    "∃ JSON line: request_id == X-Request-ID ∧ ts, level, method, path, status_code", "log")
    context.evidence.check(verdict, lines=lines[:5])
