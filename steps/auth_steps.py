"""Steps for authentication at the gateway."""
from __future__ import annotations

from behave import then, when

from citadel_acceptance.checks.api.verdicts import error_style
from citadel_acceptance.checks.security import credentials
from citadel_acceptance.verdict import Verdict


@when("a client sends a chat request with {credential}")
def step_chat_with_credential(context, credential):
    """POST a valid chat request for a served model with the described credential instead of the run's key."""
    gateway, profile = context.session.gateway, context.session.profile
    model = profile.served_id(sorted(profile.models)[0])
    context.credential = credentials.authorization_for(credential)
    context.exchange = gateway.request("POST", gateway.settings.chat_path, gateway.chat_body(model, "Hello", 4),
                                       auth=context.credential)


@then("the request is refused as unauthenticated")
def step_refused_unauthenticated(context):
    """401, a `WWW-Authenticate` challenge, and an error body (OpenAI's or FastAPI's: the verdict says which)."""
    ex = context.exchange
    problems = credentials.refusal_problems(ex.status, ex.headers, ex.body)
    style = error_style(ex.body) or "neither"
    verdict = Verdict.from_problems("unauthenticated request refused", problems, "HTTP 401 + WWW-Authenticate",
                                    f"{ex.url} (error body style: {style})", error_style=style)
    context.evidence.check(verdict, exchange=ex)


@then("the refusal does not repeat the credential")
def step_no_echo(context):
    """No part of the refused credential appears in the answer's headers or body."""
    ex = context.exchange
    problems = credentials.echo_problems(context.credential, ex.headers, ex.body)
    verdict = Verdict.from_problems("credential not echoed", problems, "credential ∉ response", ex.url)
    context.evidence.check(verdict)
