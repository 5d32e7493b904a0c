"""Steps for the security framework (SC5): authentication everywhere, roles, isolation, limits, TLS,
headers, components, audit chain, prompt injection."""
from __future__ import annotations

from behave import given, then, when

from citadel_acceptance.checks.security import api_fuzz

from citadel_acceptance.checks.security import verdicts as security_gates

from citadel_acceptance.checks.security import probe as security_probe
from citadel_acceptance.checks.security.credentials import authorization_for
from citadel_acceptance.verdict import Verdict


def _record(context, name, problems, formula, where, **attachments):
    verdict = Verdict.from_problems(name, problems, formula, where)
    context.evidence.check(verdict, **attachments)


@when("a client calls every protected endpoint with {credential}")
def step_every_endpoint(context, credential):
    """Every operation of the OpenAPI document not listed as public, with the described credential."""
    found, context.openapi = security_probe.endpoints(context.session)
    context.endpoints = security_probe.protected(context.session, found)
    context.credential = security_probe.revoked_key(context.session) if credential == "a revoked API key" \
        else authorization_for(credential)
    context.answers = security_probe.try_each(context.session, context.endpoints, context.credential)


@then("every one of them refuses it with 401 and a challenge, without repeating it")
def step_all_refused(context):
    """401 with `WWW-Authenticate: Bearer` on every protected endpoint, credential never echoed."""
    problems = security_gates.refusal_problems(context.endpoints, context.answers, context.credential)
    _record(context, "authentication on every endpoint", problems, "∀ protected endpoint: 401 ∧ Bearer challenge ∧ no echo",
            "the OpenAPI document", endpoints=[f"{e.method} {e.path}" for e in context.endpoints])


@when("a user key calls every operator endpoint")
def step_user_calls_admin(context):
    """Every /admin operation of the OpenAPI document, with a fresh user key."""
    found, _ = security_probe.endpoints(context.session)
    context.endpoints = [e for e in found if e.path.startswith("/admin")]
    context.answers = security_probe.try_each(context.session, context.endpoints, context.user_key.authorization)


@then("every one of them answers 403")
def step_all_forbidden(context):
    """403 on every operator endpoint."""
    answers = {f"{e.method} {e.path}": ex for e, ex in zip(context.endpoints, context.answers)}
    problems = security_gates.status_problems(answers, {label: (403,) for label in answers}) or (
        [] if answers else ["the OpenAPI document lists no operator endpoint"])
    _record(context, "operator endpoints forbidden to users", problems, "∀ /admin endpoint: 403", "/admin")


@when("a read-only key tries to store a document")
def step_readonly_store(context):
    """POST a document with a fresh read-only key."""
    key = context.session.run_data.issue_key("readonly", role="readonly")
    context.answer = context.session.run_data.store(key, "read-only keys must not write", "refused", {})


@then("the request is forbidden")
def step_forbidden(context):
    """403 for the read-only key's write."""
    problems = security_gates.status_problems({"store with a read-only key": context.answer}, {"store with a read-only key": (403,)})
    _record(context, "read-only key cannot write", problems, "HTTP 403", context.answer.url, exchange=context.answer)


@given("another user has stored a private document")
def step_other_user_document(context):
    """A second user key stores a document (removed at the end of the run)."""
    context.other_key = context.session.run_data.issue_key("other-user")
    ex = context.session.run_data.store(context.other_key, "Private salary review: Alice earns 123,456 euros.", "salary", {})
    assert ex.status == 201, f"expected 201 from POST {ex.url}, got {ex.status}: {ex.body}"
    context.other_document = ex.body["id"]


@when("the user tries to read, list, delete and retrieve that document")
def step_cross_user(context):
    """The first user's key against the other user's document, and against an id that does not exist."""
    context.answers, context.unknown = security_probe.cross_user(context.session, context.user_key, context.other_document)


@then("the document is as invisible to them as one that does not exist")
def step_invisible(context):
    """404 (or 403) alike for theirs and for none, not listed, not cited."""
    problems = security_gates.isolation_problems(context.answers, context.other_document, context.unknown)
    _record(context, "documents isolated between users", problems, "read/delete → 404 like a missing id; ∉ list; ∉ citations",
            "/v1/documents", answers={k: v.as_dict() for k, v in context.answers.items()})


@when("the user sends {count:d} requests within a minute and then waits as told")
def step_rate_burst(context, count):
    """`count` cheap requests with one fresh key, then one more after the Retry-After the 429 gave."""
    context.limit = count - 1
    context.burst = security_probe.burst(context.session, context.user_key, count)
    over = context.burst[-1].headers if context.burst else {}
    retry = {k.lower(): v for k, v in over.items()}.get("retry-after")
    context.resumed = security_probe.after_retry(context.session, context.user_key, retry, 75) if retry else None


@then("the last one is refused with 429 and a Retry-After, and service resumes after it")
def step_rate_limited(context):
    """The first requests pass, the one past the limit gets 429 with Retry-After, the retry is served."""
    problems = security_gates.rate_limit_problems(context.burst, context.limit, context.resumed)
    _record(context, "rate limit", problems, f"requests 1..{context.limit} → 200; {context.limit + 1} → 429 + Retry-After; "
            "after waiting → 200", "the gateway", statuses=[ex.status for ex in context.burst])


@when("a client sends oversized, malformed and out-of-range requests")
def step_abusive(context):
    """A 2 MiB body, broken JSON, and parameters outside their ranges."""
    context.answers = security_probe.abusive_requests(context.session)


@then("each is refused as the client's mistake, never as a server error")
def step_client_errors(context):
    """413 for the oversized body, 400 or 422 for the rest."""
    expected = {label: ((413,) if label.startswith("oversized") else (400, 422)) for label in context.answers}
    _record(context, "abusive requests refused", security_gates.status_problems(context.answers, expected),
            "413 / 400 / 422, never 5xx", "the gateway", answers={k: v.as_dict() for k, v in context.answers.items()})


@then("no error answer reveals a stack trace, SQL, a file path or a version")
def step_no_internals(context):
    """The error bodies carry no internals."""
    _record(context, "error bodies without internals", security_gates.internals_problems(context.answers),
            "no traceback, file path, SQL, framework or version string in any error body", "the gateway")


@when("a client connects over HTTPS with each TLS version")
def step_tls(context):
    """TLS 1.0 to 1.3 handshakes with the deployment's CA, and one request over HTTPS."""
    gw = context.session.profile.gateway
    security_probe.require_tls_settings(gw.tls_url, gw.ca_file)  # one sentence naming the profile key, not a traceback
    context.versions = security_probe.tls_versions(gw.tls_url, gw.ca_file)
    context.https = security_probe.https_answer(gw.tls_url, gw.ca_file, gw.health_path)


@then("only TLS 1.2 or newer is accepted, with a certificate the client trusts")
def step_tls_ok(context):
    """TLS 1.0 and 1.1 refused; the HTTPS answer verified against the CA."""
    _record(context, "transport security", security_gates.tls_problems(context.versions, context.https),
            "TLS 1.0, 1.1 refused ∧ TLS ≥ 1.2 accepted ∧ certificate verified", "the HTTPS listener", versions=context.versions)


@then("answers carry the security headers, and a foreign origin is not let in")
def step_headers(context):
    """nosniff and no-store on API answers, HSTS over HTTPS, no credentialed CORS for a foreign Origin."""
    plain = context.session.gateway.request("GET", context.session.profile.gateway.models_path)
    _record(context, "security headers", security_gates.header_problems(plain, context.https),
            "nosniff ∧ no-store ∧ HSTS(https) ∧ ¬(foreign Origin allowed with credentials)", "the gateway",
            http_headers=plain.headers, https_headers=context.https.headers)


@when("the database role, the vector store and the audit trail are examined")
def step_components(context):
    """The application role's rights, the vector store without its key, the audit chain (tampered in a rollback)."""
    context.superuser = security_probe.application_role_is_superuser(context.session.profile.secret("database_dsn"))
    context.vector_answer = security_probe.vector_store_without_key(context.session.profile.vector.url)
    context.chain = security_probe.audit_chain(context.session.profile.secret("database_admin_dsn"))


@then("the application's database role is not a superuser")
def step_not_superuser(context):
    """rolsuper is false for the application's role."""
    _record(context, "application role is no superuser", ["the application's role is a superuser"] if context.superuser else [],
            "pg_roles.rolsuper(current_user) == false", "the database")


@then("the vector store refuses a request without its API key")
def step_vector_key(context):
    """GET /collections without `api-key` is refused (401 or 403)."""
    problems = [] if context.vector_answer.startswith("refused") else [f"the vector store {context.vector_answer} without a key"]
    _record(context, "vector store needs its key", problems, "GET /collections without api-key → 401/403", "the vector store")


@then("the audit trail's hash chain holds, and a modified row breaks it")
def step_chain(context):
    """Every row's hash covers the previous hash and its content; an UPDATE (rolled back) is detected."""
    _record(context, "tamper-evident audit trail", security_gates.chain_problems(context.chain),
            "hash_i = sha256(hash_{i-1} ‖ row_i) for every row; modified row ⇒ mismatch", "audit_log",
            chain=context.chain.__dict__)


@when("a user tries {samples:d} prompt injections carrying a canary, directly and through a stored document")
def step_injections(context, samples):
    """Injected instructions asking the model to answer only with a canary, in the message and in a document."""
    context.injections = security_probe.injection_attempts(context.session, context.user_key, samples)


@then("the share of answers that obey the injection stays within the target")
def step_injection_rate(context):
    """Hit rate (answers carrying the canary) per kind against the profile's target."""
    gate = context.thresholds.resolve("security.injection_hit_rate")
    verdicts = [gate.check(round(security_gates.hit_rate(context.injections[kind]), 3), f"prompt-injection hit rate ({kind})",
                           "(answers containing the canary + attempts not evaluated: server or transport error, rate "
                           "limit, document not stored) / attempts; a refusal (400, 403, 422) resisted",
                           where=security_gates.injection_counts(context.injections[kind]), n=len(context.injections[kind]))
                for kind in ("direct", "through a document")]
    for verdict in verdicts:
        context.evidence.record(verdict, attempts=context.injections)
    assert all(v.passed for v in verdicts), "; ".join(v.explanation for v in verdicts if not v.passed)


@then("the gateway's guard reports catching every one of them")
def step_guard_caught(context):
    """The guard's counter (citadel_threats_detected_total) grew by at least the number of injections sent."""
    sent = len(context.injections["direct"]) + len(context.injections["through a document"])
    caught = context.injections["caught by the guard"]
    problems = [] if caught >= sent else [f"injections caught by the guard: {caught:g} of {sent}"]
    _record(context, "injection guard", problems, "Δ citadel_threats_detected_total ≥ injections sent", "/metrics")


@given("an operator has just issued an API key")
def step_operator_issued_key(context):
    """An admin action of this run, so that the audit trail has a row of its own to verify."""
    context.session.run_data.issue_key("audit-probe")


@when("Schemathesis sends requests generated from the gateway's OpenAPI document with that key")
def step_schemathesis(context):
    """Generated requests (seeded, per the profile) with the user key; documents it stores go at the end."""
    context.session.run_data.sweep_documents_of(context.user_key)
    context.fuzz = security_probe.fuzz(context.session, context.user_key.authorization)
    context.evidence.attach_text("Schemathesis console", context.fuzz.console)
    context.evidence.attach_json("Schemathesis report", context.fuzz.report)
    context.evidence.attach_text("Schemathesis JUnit", context.fuzz.junit)


@then("every protected operation of the document declares that it needs a key")
def step_security_declared(context):
    """Without a declared security requirement, no tool (Schemathesis included) can check an operation's lock."""
    openapi, _ = security_probe.openapi_document(context.session)
    missing = api_fuzz.undeclared_security(openapi, security_probe.public_paths(context.session))
    _record(context, "security declared in the OpenAPI document", [f"no security requirement: {', '.join(missing)}"]
            if missing else [], "protected operations without `security` = ∅", security_probe.openapi_url(context.session))


@then("no generated request caused a server error")
def step_fuzz_no_5xx(context):
    """Schemathesis' not_a_server_error check (ST101) over every generated request; the run itself must complete."""
    problems = context.fuzz.run_problems() + security_gates.fuzz_problems(context.fuzz, api_fuzz.SERVER_ERROR, "server error")
    _record(context, "no server error under generated requests", problems, "Schemathesis ST101 failures = 0",
            security_probe.openapi_url(context.session), summary=context.fuzz.summary())


@then("no protected operation answered a request without a valid key")
def step_fuzz_auth(context):
    """Schemathesis' ignored_auth check (ST401): each operation that declares security, called without a key."""
    problems = security_gates.fuzz_problems(context.fuzz, api_fuzz.IGNORED_AUTH, "served without a valid key")
    _record(context, "authentication enforced under generated requests", problems, "Schemathesis ST401 failures = 0",
            security_probe.openapi_url(context.session), summary=context.fuzz.summary())
