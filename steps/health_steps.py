"""Steps for the health reports of the gateway and direct checks of the model services."""
from __future__ import annotations

from behave import then, when

from citadel_acceptance.checks.api import health

from citadel_acceptance.checks.api import verdicts as openai_shape
from citadel_acceptance.verdict import Verdict


@when("an operator checks the health of the {scope}")
def step_check_health(context, scope):
    """GET the overall health report ("system") or the per-model one ("models"); no credentials needed."""
    gateway = context.session.profile.gateway
    path = gateway.health_path if scope == "system" else gateway.health_models_path
    context.exchange = context.session.gateway.request("GET", path, auth=False)


@then("the report names every model of the deployment with the service that runs it")
def step_report_names_models(context):
    """Each model id of the profile is in the report, with the service the profile routes it to."""
    ex = context.exchange
    problems = openai_shape.status_problems(ex.status, ex.body, ex.error) or \
        health.report_problems(ex.body, context.session.profile.routes)
    verdict = Verdict.from_problems("health names every model", problems, "profile models ⊆ report.models", ex.url)
    context.evidence.check(verdict, exchange=ex)


@then("every model service is reported healthy")
def step_every_service_healthy(context):
    """Every model of the profile is reported healthy."""
    states = health.model_states(context.exchange.body)
    problems = [f"model {m!r} is reported {states.get(m, 'missing')!r}" for m in sorted(context.session.profile.models)
                if states.get(m) != "healthy"]
    verdict = Verdict.from_problems("every service healthy", problems, "report.models[*].status == healthy", "health")
    context.evidence.check(verdict, states=states)


@then("the report agrees with a direct check of each model service")
def step_report_agrees(context):
    """GET /v1/models on each model service directly; the gateway's report must say the same."""
    services = {name: service.url for name, service in context.session.profile.services.items() if service.url}
    if not services:
        context.scenario.skip("the profile gives no model service URL the suite can reach directly")
        return
    observed = {name: health.direct_status(url) for name, url in services.items()}
    problems = health.disagreements(health.service_states(context.exchange.body), observed)
    verdict = Verdict.from_problems("health agrees with direct checks", problems, "reported == direct, per service", "health")
    context.evidence.check(verdict, observed=observed)


@then("the stopped service and every model it runs are reported unreachable")
def step_stopped_unreachable(context):
    """The stopped service and each model routed to it are reported unreachable."""
    service = context.stopped_service
    problems = health.outage_problems(context.exchange.body, service, context.session.profile.routes)
    verdict = Verdict.from_problems("outage reported", problems, f"status of {service} and its models == unreachable", "health")
    context.evidence.check(verdict, exchange=context.exchange)


@then("the gateway itself still answers")
def step_gateway_answers(context):
    """The health endpoint answered 200 with a report, although a model service is down."""
    ex = context.exchange
    problems = openai_shape.status_problems(ex.status, ex.body, ex.error)
    verdict = Verdict.from_problems("gateway answers during an outage", problems, "HTTP 200 from health", ex.url)
    context.evidence.check(verdict)
