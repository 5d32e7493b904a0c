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
    """Each model of the profile is in the report (under its served id), in a state the profile's [health] words know,
    with the service the profile routes it to where the report's shape names services (the plan's names URLs)."""
    ex, profile = context.exchange, context.session.profile
    problems = openai_shape.status_problems(ex.status, ex.body, ex.error) or \
        health.report_problems(ex.body, profile.routes, profile.health, profile.served_ids)
    verdict = Verdict.from_problems("health names every model", problems, "profile models ⊆ report.models", ex.url)
    context.evidence.check(verdict, exchange=ex)


@then("every model service is reported healthy")
def step_every_service_healthy(context):
    """Every model of the profile is reported healthy (in one of the profile's [health] healthy_words)."""
    profile = context.session.profile
    states = health.model_states(context.exchange.body, profile.health, profile.routes, profile.served_ids)
    problems = health.healthy_problems(context.exchange.body, profile.routes, profile.health, profile.served_ids)
    verdict = Verdict.from_problems("every service healthy", problems, "report.models[*].status == healthy", "health")
    context.evidence.check(verdict, states=states)


@then("the report agrees with a direct check of each model service")
def step_report_agrees(context):
    """GET /v1/models on each model service directly (with its own key where the profile names one); the gateway's
    report must say the same (in the plan's shape, a service's state is that of the models it serves)."""
    profile = context.session.profile
    services = {name: service.url for name, service in profile.services.items() if service.url}
    if not services:
        context.scenario.skip("the profile gives no model service URL the suite can reach directly")
        return
    observed = {name: health.direct_status(url, api_key=profile.service_key(name)) for name, url in services.items()}
    problems = health.agreement_problems(context.exchange.body, observed, health.routes_of(profile), profile.health,
                                         profile.served_ids)
    verdict = Verdict.from_problems("health agrees with direct checks", problems, "reported == direct, per service", "health")
    context.evidence.check(verdict, observed=observed)


@then("the stopped service and every model it runs are reported unreachable")
def step_stopped_unreachable(context):
    """The stopped service and each model routed to it are reported unreachable."""
    service, profile = context.stopped_service, context.session.profile
    problems = health.outage_problems(context.exchange.body, service, profile.routes, profile.health,
                                      profile.served_ids)
    verdict = Verdict.from_problems("outage reported", problems, f"status of {service} and its models == unreachable", "health")
    context.evidence.check(verdict, exchange=context.exchange)


@then("the gateway itself still answers")
def step_gateway_answers(context):
    """The health endpoint answered 200 with a report, although a model service is down."""
    ex = context.exchange
    problems = openai_shape.status_problems(ex.status, ex.body, ex.error)
    verdict = Verdict.from_problems("gateway answers during an outage", problems, "HTTP 200 from health", ex.url)
    context.evidence.check(verdict)
