"""Steps that stop and restart parts of the target (@destructive scenarios only)."""
from __future__ import annotations

from behave import given


@given("a model service has stopped")
def step_model_service_stopped(context):
    """Stop the service of the first model of the profile; it is started again when the scenario ends."""
    service = context.session.profile.routes[sorted(context.session.profile.models)[0]]
    part = f"model_service:{service}"
    context.add_cleanup(context.session.start_part, part)
    context.session.stop_part(part)
    context.stopped_service = service
