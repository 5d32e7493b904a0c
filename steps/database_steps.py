"""Steps for the database (T2-005): schema, plans, timings, connections, statistics, lifecycle, role."""
from __future__ import annotations

from behave import given, then, when

from citadel_acceptance.checks.database import verdicts as database_gates

from citadel_acceptance.checks.database import probe as database_probe


def _dsn(context):
    return context.session.profile.secret("database_dsn")


@when("the database schema is inspected")
def step_inspect_schema(context):
    """Read the tables, indexes and constraints of the public schema."""
    context.schema = database_probe.schema_objects(_dsn(context))


@then("every expected table, index and constraint exists")
def step_expected_objects(context):
    """The profile's expected tables, indexes and constraints are all there."""
    expected = context.session.profile.database.expected()
    verdict = database_gates.schema_verdict(context.schema, expected)
    context.evidence.check(verdict, expected=expected)


@when("the plan of each critical query is examined")
def step_examine_plans(context):
    """EXPLAIN every critical query of the profile with sequential scans discouraged."""
    db = context.session.profile.database
    context.plans = [database_probe.check_plan(_dsn(context), name, query, db.big_tables)
                     for name, query in db.critical_queries.items()]


@then("no critical query scans a big table sequentially")
def step_no_seq_scan(context):
    """Each critical query can use an index on the big tables."""
    verdict = database_gates.plans_verdict(context.plans)
    context.evidence.check(verdict, plans={c.name: c.plan for c in context.plans})


@when("the critical queries run from {connections:d} connections at once, {runs:d} times each")
def step_time_queries(context, connections, runs):
    """Every critical query, `runs` times on each of `connections` concurrent connections."""
    queries = context.session.profile.database.critical_queries
    context.query_samples = database_probe.time_queries(_dsn(context), queries, connections, runs)


@then("95 % of the critical queries complete within {target_ms:d} ms")
def step_queries_fast(context, target_ms):
    """p95 of all runs against the optimised-query target (T2-005)."""
    gate = context.thresholds.resolve("database.query_ms", spec=target_ms)
    verdict = database_gates.latency_verdict(gate, context.query_samples, context.thresholds.confidence())
    context.evidence.check(verdict, samples_ms=context.query_samples)


@when("{count:d} connections are opened at once")
def step_connection_burst(context, count):
    """Open `count` connections together, query on each while all are open, then close them."""
    context.connections_asked = count
    context.burst = database_probe.connection_burst(_dsn(context), count)


@then("every connection is served")
def step_every_connection(context):
    """All of them opened and answered (the pool target of T2-005)."""
    gate = context.thresholds.resolve("database.pool_connections", spec=context.connections_asked)
    verdict = database_gates.burst_verdict(context.burst, gate)
    context.evidence.check(verdict, burst=context.burst.__dict__)


@then("the number of open connections returns to its baseline")
def step_connections_released(context):
    """The server holds no more connections of the role than before the burst."""
    verdict = database_gates.release_verdict(context.burst)
    context.evidence.check(verdict)


@when("the server's statement statistics are read")
def step_read_statements(context):
    """Statements of the application role slower on average than the target, from pg_stat_statements."""
    gate = context.thresholds.resolve("database.query_ms")
    available, context.slow = database_probe.slow_statements(_dsn(context), gate.applied)
    if not available:
        context.scenario.skip("the server has no pg_stat_statements extension: slow statements cannot be read")


@then("no statement of the application averages more than {target_ms:d} ms")
def step_no_slow_statement(context, target_ms):
    """The slowest statement's mean execution time against the optimised-query target."""
    verdict = database_gates.slow_statements_verdict(context.slow, context.thresholds.resolve("database.query_ms", spec=target_ms))
    context.evidence.check(verdict, slow_statements=context.slow)


@given("request-log rows older than the retention period")
def step_aged_rows(context):
    """Insert rows dated 10 days past the retention, tagged with the run id."""
    days, run_id = context.session.profile.database.retention_days, context.session.run_id
    context.add_cleanup(context.session.run_data.quiet_cleanup(  # never a second error after the step's own
        f"request-log rows with request_id LIKE 'suite-{run_id}-aged-%'", database_probe.delete_aged_request_rows,
        _dsn(context), run_id))
    context.aged_ids = database_probe.insert_aged_request_rows(_dsn(context), run_id, days + 10, 3)


@when("the data-lifecycle job runs")
def step_run_lifecycle(context):
    """Ask the gateway to run its data-lifecycle job now."""
    context.exchange = context.session.api.run_lifecycle()


@then("no request-log row is older than the retention period")
def step_nothing_older(context):
    """Count request-log rows older than the profile's retention."""
    days = context.session.profile.database.retention_days
    left = database_probe.rows_older_than(_dsn(context), "request_log", days)
    verdict = database_gates.lifecycle_verdict(left, days, context.exchange.status)
    context.evidence.check(verdict, exchange=context.exchange)


@when("the application's database role tries to create a table")
def step_try_ddl(context):
    """CREATE TABLE as the application role, in a transaction that is rolled back."""
    context.ddl_error = database_probe.ddl_attempt(_dsn(context), context.session.run_id)


@then("the database refuses it")
def step_ddl_refused(context):
    """The attempt failed with InsufficientPrivilege."""
    verdict = database_gates.ddl_verdict(context.ddl_error)
    context.evidence.check(verdict)
