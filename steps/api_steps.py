"""Steps for the gateway's OpenAI-compatible API: model lists and chat completions."""
from __future__ import annotations

from behave import given, then, when

from citadel_acceptance.checks.api import verdicts as openai_shape
from citadel_acceptance.verdict import Verdict

MODEL_LIST_PATHS = {"OpenAI clients look for it": "models_path", "the MVP-2 plan puts it": "planned_models_path"}


@given('the "{model}" model is being served')
def step_model_served(context, model):
    """The profile routes this model id to a model service (otherwise the profile is wrong, not the product)."""
    models = context.session.profile.models
    assert model in models, f"the profile {context.session.profile.name!r} serves {sorted(models)}, not {model!r}"
    context.model = model


@when("a client asks for the model list where {convention}")
def step_ask_model_list(context, convention):
    """GET the model list on the path the profile names for this convention."""
    path = getattr(context.session.profile.gateway, MODEL_LIST_PATHS[convention])
    context.exchange = context.session.gateway.request("GET", path)


@then("every model of the deployment is listed")
def step_every_model_listed(context):
    """The list answers 200 and names every model of the profile (under its [models.ID] alias, where it has one)."""
    ex, profile = context.exchange, context.session.profile
    problems = openai_shape.status_problems(ex.status, ex.body, ex.error) or \
        openai_shape.model_list_problems(ex.body, profile.models, profile.served_ids)
    verdict = Verdict.from_problems("model list", problems, "every profile model id ∈ data[].id", f"GET {ex.url}")
    context.evidence.check(verdict, exchange=ex)


@when('a user asks "{model}" a question')
def step_ask_question(context, model):
    """One deterministic, non-streamed chat request with the profile's probe prompt (the model under the
    deployment's id for it)."""
    profile = context.session.profile
    context.exchange = context.session.gateway.chat(profile.served_id(model), profile.probe.prompt,
                                                    profile.probe.max_tokens)


@then('the answer is a complete chat completion from "{model}"')
def step_complete_completion(context, model):
    """200 and an OpenAI `chat.completion` with an assistant message that has text."""
    ex = context.exchange
    problems = openai_shape.status_problems(ex.status, ex.body, ex.error) or \
        openai_shape.chat_completion_problems(ex.body, model, context.session.profile.served_id(model))
    verdict = Verdict.from_problems("chat completion", problems, "OpenAI chat.completion schema", f"POST {ex.url}")
    context.evidence.check(verdict, exchange=ex)


@then("the answer reports how many tokens it used")
def step_answer_usage(context):
    """`usage` holds prompt, completion and total token counts that add up."""
    body = context.exchange.body if isinstance(context.exchange.body, dict) else {}
    problems = openai_shape.usage_problems(body.get("usage"), "the answer")
    verdict = Verdict.from_problems("token usage", problems, "total_tokens = prompt_tokens + completion_tokens", "usage")
    context.evidence.check(verdict, usage=body.get("usage"))


@then("the answer arrives within {response_ms:d} ms")
def step_answer_in_time(context, response_ms):
    """The response time of the request against the model's target (spec from the feature, applied from the profile)."""
    gate = context.thresholds.resolve("latency.response_ms", spec=response_ms, model=context.model)
    verdict = gate.check(context.exchange.elapsed_ms, "response time", "last byte received − request sent (one request)")
    context.evidence.check(verdict)


@when("a user asks a model that is not served a question")
def step_ask_unknown_model(context):
    """A chat request naming a model id the deployment does not serve."""
    context.exchange = context.session.gateway.chat("no-such-model-citadel", "Hello", 4)


@when("a user sends a chat request without any message")
def step_chat_without_messages(context):
    """A chat request for a served model with an empty message list."""
    model = context.session.profile.served_id(sorted(context.session.profile.models)[0])
    body = context.session.gateway.chat_body(model, "unused", 4) | {"messages": []}
    context.exchange = context.session.gateway.request("POST", context.session.profile.gateway.chat_path, body)


@then("the request is refused as invalid, naming the {param}")
def step_refused_invalid(context, param):
    """400 with an error body (OpenAI's `error.param` or message, or FastAPI's `detail`) naming what was wrong; the
    verdict says which convention the body follows."""
    ex = context.exchange
    problems = openai_shape.invalid_request_problems(ex.status, ex.body, param)
    style = openai_shape.error_style(ex.body) or "neither"
    verdict = Verdict.from_problems("invalid request refused", problems, "HTTP 400 + OpenAI or FastAPI error body",
                                    f"POST {ex.url} (error body style: {style})", error_style=style)
    context.evidence.check(verdict, exchange=context.exchange)
