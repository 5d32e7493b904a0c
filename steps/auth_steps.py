"""Steps for authentication at the gateway."""
from __future__ import annotations

from behave import then, when

from citadel_acceptance.checks.security import credentials
from citadel_acceptance.verdict import Verdict


@when("a client sends a chat request with {credential}")
def step_chat_with_credential(context, credential):
    """POST a valid chat request for a served model with the described credential instead of the run's key."""
    gateway, model = context.session.gateway, sorted(context.session.profile.models)[0]
    context.credential = credentials.authorization_for(credential)
    context.exchange = gateway.request("POST", gateway.settings.chat_path, gateway.chat_body(model, "Hello", 4),
                                       auth=context.credential)


@then("the request is refused as unauthenticated")
def step_refused_unauthenticated(context):
    """401, a `WWW-Authenticate` challenge, and an OpenAI-style error body."""
    ex = context.exchange
    problems = credentials.refusal_problems(ex.status, ex.headers, ex.body)
    verdict = Verdict.from_problems("unauthenticated request refused", problems, "HTTP 401 + WWW-Authenticate", ex.url)
    context.evidence.check(verdict, exchange=ex)


@then("the refusal does not repeat the credential")
def step_no_echo(context):
    """No part of the refused credential appears in the answer's headers or body."""
    ex = context.exchange
    problems = credentials.echo_problems(context.credential, ex.headers, ex.body)
    verdict = Verdict.from_problems("credential not echoed", problems, "credential ∉ response", ex.url)
    context.evidence.check(verdict)
