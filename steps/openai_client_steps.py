"""Steps for the official OpenAI Python client as the compatibility probe."""
from __future__ import annotations

from behave import given, then, when

from citadel_acceptance.checks.api import openai_client as openai_probe
from citadel_acceptance.verdict import Verdict


@given("the official OpenAI Python client is pointed at the gateway")
def step_openai_client(context):
    """The unmodified `openai` package, base URL and key from the profile."""
    context.openai_settings = context.session.profile.gateway


@when('the client lists the models, asks "{model}" a question and streams an answer')
def step_openai_probe(context, model):
    """models.list(), chat.completions.create(), and the same with stream=True and include_usage (the deployment's
    id of the model)."""
    profile = context.session.profile
    context.openai_result = openai_probe.run_probe(context.openai_settings, profile.secret("api_key"),
                                                   profile.served_id(model), profile.probe.prompt,
                                                   profile.probe.max_tokens)


@then("the client sees every model of the deployment")
def step_openai_models(context):
    """The client's model list holds every model of the profile (under its [models.ID] alias, where it has one)."""
    result, profile = context.openai_result, context.session.profile
    problems = openai_probe.listing_problems(result, list(profile.models), profile.served_ids)
    verdict = Verdict.from_problems("OpenAI client: models", problems, "profile models ⊆ client.models.list()", "openai")
    context.evidence.check(verdict, probe=result)


@then("the client receives a complete answer and a complete streamed answer, each with usage")
def step_openai_answers(context):
    """Chat and stream through the client: text, a finish_reason, and usage in both."""
    problems = openai_probe.answer_problems(context.openai_result)
    verdict = Verdict.from_problems("OpenAI client: chat and stream", problems, "client calls succeed with usage", "openai")
    context.evidence.check(verdict, probe=context.openai_result)
