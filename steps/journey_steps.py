"""Steps for one user's journey: a key of their own, a document, a question answered from it."""
from __future__ import annotations

from behave import given, then, when

from citadel_acceptance.checks.api import journey
from citadel_acceptance.verdict import Verdict


@given("a user with their own API key")
def step_user_with_key(context):
    """The admin key issues a least-privilege `user` key for this run (removed at the end of the run)."""
    context.user_key = context.session.run_data.issue_key("user")
    context.user_requests = []


@given('the user has stored this document titled "{title}"')
def step_user_stored_document(context, title):
    """The user stores the document of the step's text through the gateway (201 expected)."""
    ex = context.session.run_data.store(context.user_key, context.text.strip(), title, {"topic": "journey"})
    context.user_requests.append(ex.request_id)
    assert ex.status == 201, f"expected 201 from POST {ex.url}, got {ex.status}: {ex.body}"
    context.document_id = ex.body["id"]


@when('the user asks "{model}": "{question}"')
def step_user_asks(context, model, question):
    """A chat request with retrieval, as the user; the gateway's metrics are scraped before and after."""
    context.model = model
    context.answer = journey.ask(context.session, context.user_key, model, question)
    context.user_requests.append(context.answer.exchange.request_id)


@then('the answer cites the document titled "{title}"')
def step_answer_cites(context, title):
    """200, an answer with text, and the stored document among the answer's citations."""
    verdict = journey.citation_verdict(context.answer.exchange, context.document_id, title)
    context.evidence.check(verdict, exchange=context.answer.exchange)


@then("the request log holds one row for each request the user made")
def step_request_log_rows(context):
    """Each of the user's request ids has exactly one request-log row (waiting up to 3 s for the write)."""
    rows = journey.request_log_rows(context.session, context.user_requests)
    verdict = Verdict.from_problems("request log", journey.request_log_problems(rows), "rows per request id == 1",
                                    "request_log")
    context.evidence.check(verdict, rows=rows)


@then("the vector store holds the document with its owner and metadata")
def step_vector_holds_document(context):
    """The document's point is in the collection with the user's owner, the run id and the metadata."""
    payload = journey.point_payload(context.session, context.document_id)
    problems = journey.payload_problems(payload, context.user_key.owner, context.session.run_id, {"topic": "journey"})
    verdict = Verdict.from_problems("vector point", problems, "payload ⊇ {owner, run_id, metadata}", "vector store")
    context.evidence.check(verdict, payload=payload)


@then("the gateway counted exactly the one chat request the user made")
def step_counter_grew(context):
    """model_requests_total for the model grew by exactly 1 between the scrapes around the question."""
    grown = context.answer.counter_delta
    verdict = Verdict(name="request counter", passed=grown == 1, measured=grown, formula=
                      "Δ model_requests_total{model_name} between scrapes before and after the request",
                      explanation=f"request counter for {context.model}: expected to grow by exactly 1, grew by {grown:g}")
    context.evidence.check(verdict)
