"""Steps for streamed chat answers (Server-Sent Events)."""
from __future__ import annotations

from behave import then, when

from citadel_acceptance.checks.api import verdicts as openai_shape
from citadel_acceptance.verdict import Verdict


@when('a user asks "{model}" a question and reads the answer as it is written')
def step_stream_question(context, model):
    """A streamed chat request for the deployment's id of the model, asking for usage (`stream_options.include_usage`),
    every event timed."""
    profile = context.session.profile
    context.stream = context.session.gateway.stream_chat(profile.served_id(model), profile.probe.prompt,
                                                         profile.probe.max_tokens)


@then("the answer arrives in several pieces")
def step_stream_pieces(context):
    """200, an event stream, more than one chunk carrying text, and the text arriving as it is written."""
    s = context.stream
    problems = openai_shape.status_problems(s.exchange.status, s.exchange.body, s.exchange.error)
    problems += [] if problems or len(s.content_chunks) >= 2 else [f"got {len(s.content_chunks)} chunk(s) with text"]
    problems += [] if problems else openai_shape.incremental_problems(s.content_times_ms)
    verdict = Verdict.from_problems("streamed in pieces", problems, "count of chunks whose delta has content ≥ 2 ∧ "
                                    "≥ a third of them arrive > 5 ms before the last (not one burst)",
                                    f"POST {s.exchange.url}", chunks_with_text=len(s.content_chunks), ttft_ms=s.ttft_ms,
                                    e2e_ms=s.e2e_ms, content_times_ms=[round(t, 1) for t in s.content_times_ms])
    context.evidence.check(verdict, stream=s)


@then("the stream tells the application that the answer is complete")
def step_stream_complete(context):
    """Every event is a `chat.completion.chunk` of one id, a finish_reason comes, `data: [DONE]` comes last."""
    s, served = context.stream, context.session.profile.served_id(context.model)
    problems = openai_shape.stream_problems(s.chunks, len(s.content_chunks), s.done_marker, s.events_after_done,
                                            s.undecodable, context.model, served)
    verdict = Verdict.from_problems("stream completed", problems, "last SSE event == [DONE]", f"POST {s.exchange.url}")
    context.evidence.check(verdict)


@then("the stream reports how many tokens the answer used")
def step_stream_usage(context):
    """The usage chunk asked for with include_usage exists and counts at least the text chunks received."""
    s = context.stream
    problems = openai_shape.stream_usage_problems(s.usage, len(s.content_chunks))
    verdict = Verdict.from_problems("stream usage", problems, "usage.completion_tokens ≥ chunks with text", "usage chunk")
    context.evidence.check(verdict, usage=s.usage)
