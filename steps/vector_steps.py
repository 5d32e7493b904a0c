"""Steps for the vector store (T2-006): collection and its indexes, search speed, concurrency, recall, filters,
snapshots."""
from __future__ import annotations

from behave import given, then, when

from citadel_acceptance.checks.percentiles import percentile_verdict
from citadel_acceptance.checks.vector import corpus
from citadel_acceptance.checks.vector import probe as vector_probe
from citadel_acceptance.checks.vector import verdicts as vector_gates
from citadel_acceptance.verdict import Verdict


def _qdrant(context):
    if getattr(context, "qdrant", None) is None:
        vector = context.session.profile.vector
        context.qdrant = vector_probe.client(vector.url, context.session.profile.secret("qdrant_api_key"))
        context.add_cleanup(context.qdrant.close)
    return context.qdrant


def _search_vector(context):
    """The vector searches use: None for an unnamed one, else the collection's named vector of the profile's size."""
    vector = context.session.profile.vector
    return vector_probe.search_vector(_qdrant(context), vector.collection, vector.vector_size, vector.vector_name)


@when("the vector store's documents collection is inspected")
def step_inspect_collection(context):
    """Existence, status, vector size and distance of the profile's collection."""
    vector = context.session.profile.vector
    context.facts = vector_probe.collection_facts(_qdrant(context), vector.collection, vector.vector_size)


@then("it exists with the expected vector size and distance, and its status is green")
def step_collection_as_expected(context):
    """The collection matches the profile's vector size and distance and is green."""
    verdict = vector_gates.collection_verdict(context.facts, context.session.profile.vector)
    context.evidence.check(verdict, facts=context.facts.__dict__)


@then("the fields that searches filter on are indexed")
def step_filter_fields_indexed(context):
    """Every payload field of the profile's `filter_fields` has a payload index (Qdrant's strict mode refuses
    filters on unindexed fields)."""
    verdict = vector_gates.payload_index_verdict(context.facts, context.session.profile.vector)
    context.evidence.check(verdict, payload_schema=dict(context.facts.payload_indexes))


@given("the documents collection holds the run's sample of {count:d} documents")
def step_sample_stored(context, count):
    """Store the seeded sample through the gateway once per run (removed at the end of the run)."""
    stored = vector_gates.ensure_sample(context.session, count)
    assert stored >= count, f"expected {count} sample documents stored, {stored} are"
    context.sample_documents = stored


@when("{count:d} similarity searches are made one after another")
def step_sequential_searches(context, count):
    """Search the collection with stored vectors, one at a time, timing each."""
    qdrant, name, using = _qdrant(context), context.session.profile.vector.collection, _search_vector(context)
    queries = vector_probe.sample_vectors(qdrant, name, count, using=using)
    context.search_ms = vector_probe.timed_searches(qdrant, name, queries, 10, using)


@then("95 % of the searches complete within {target_ms:d} ms")
def step_searches_fast(context, target_ms):
    """p95 of the search times against the similarity-search target."""
    gate = context.thresholds.resolve("vector.search_ms", spec=target_ms)
    verdict = percentile_verdict(gate, context.search_ms, context.thresholds.confidence(), "similarity search p95",
                                 "p95 of query_points round trips (top 10)")
    context.evidence.check(verdict, samples_ms=context.search_ms)


@when("{count:d} similarity searches are made at once, {rounds:d} times in a row")
def step_concurrent_searches(context, count, rounds):
    """`count` searches in parallel threads, `rounds` times (the p95 of one round of 20 cannot be stated at 95 %
    confidence); every round must have all of its searches answered."""
    qdrant, name = _qdrant(context), context.session.profile.vector.collection
    context.ops_asked = count
    context.search_ms, context.search_errors, context.ops_served = vector_probe.concurrent_search_rounds(
        qdrant, name, count, rounds, 10, _search_vector(context))


@then("all of them succeed")
def step_all_succeed(context):
    """Every concurrent search answered (the concurrency target of T2-006)."""
    gate = context.thresholds.resolve("vector.concurrent_ops", spec=context.ops_asked)
    verdict = vector_gates.all_succeeded_verdict(gate, context.ops_served, context.search_errors)
    context.evidence.check(verdict)


@when("{count:d} stored documents are searched for by their own vectors")
def step_recall_queries(context, count):
    """Index the sample (thresholds lowered for the measurement, bounded wait), then approximate and exact top 10."""
    qdrant, vector = _qdrant(context), context.session.profile.vector
    context.recall_index = vector_probe.prepare_index(qdrant, vector.collection, vector.index_wait_s,
                                                      context.sample_documents, vector_probe.stderr_line)
    context.add_cleanup(context.session.run_data.quiet_cleanup(  # never a second error after the step's own
        f"the lowered index thresholds of collection {vector.collection!r} ({context.recall_index.lowered})",
        vector_probe.restore_index_settings, qdrant, vector.collection, context.recall_index))
    using = _search_vector(context)
    queries = vector_probe.sample_vectors(qdrant, vector.collection, count, using=using)
    context.recall = vector_probe.recall_at_k(qdrant, vector.collection, queries, 10, using)


@then("recall at 10 is at least {target:g}")
def step_recall(context, target):
    """Mean recall@10 of the deployed search against exact search, on a collection searched through its HNSW
    index (else not proven); the index's settings and indexed count go into the evidence."""
    gate = context.thresholds.resolve("vector.recall_at_10", spec=target)
    verdict = vector_gates.recall_verdict(gate, context.recall, context.recall_index)
    context.evidence.check(verdict, per_query=context.recall.per_query, index=context.recall_index.as_evidence())


@when("{count:d} texts are embedded one after another")
def step_embed_texts(context, count):
    """Embed sample questions through the gateway, timing each request."""
    model = context.session.profile.embedding_model
    context.embed_exchanges = [context.session.api.embed(model, [q]) for q in corpus.queries(count)]


@then("95 % of the embeddings complete within {target_ms:d} ms")
def step_embeddings_fast(context, target_ms):
    """Every embedding answered 200, and p95 of their times against the embedding target."""
    failed = [ex for ex in context.embed_exchanges if ex.status != 200]
    assert not failed, f"expected 200 from POST {failed[0].url}, got {failed[0].status}: {str(failed[0].body)[:200]}"
    gate = context.thresholds.resolve("vector.embedding_ms", spec=target_ms)
    verdict = percentile_verdict(gate, [ex.elapsed_ms for ex in context.embed_exchanges], context.thresholds.confidence(),
                                 "embedding p95", "p95 of POST /v1/embeddings round trips (one text each)")
    context.evidence.check(verdict, samples_ms=[round(ex.elapsed_ms, 2) for ex in context.embed_exchanges])


@then("every embedding has the collection's vector size")
def step_embeddings_sized(context):
    """Each embedding answered has the profile's vector size (the collection's), of unit length for a dot product."""
    vector = context.session.profile.vector
    problems = vector_gates.embedding_shape_problems(context.embed_exchanges, vector.vector_size, vector.distance)
    verdict = Verdict.from_problems("embedding size", problems, "len(embedding) == [vector] vector_size "
                                    "(∧ ‖embedding‖ = 1 for Dot)", "POST /v1/embeddings",
                                    dimensions=vector_gates.embedding_dimensions(context.embed_exchanges))
    context.evidence.check(verdict)


@given("the user has stored documents of several departments")
def step_user_documents(context):
    """The user stores the first twelve sample documents (four departments)."""
    for title, content, metadata in corpus.sample_documents(12):
        ex = context.session.run_data.store(context.user_key, content, title, metadata)
        assert ex.status == 201, f"expected 201 from POST {ex.url}, got {ex.status}: {ex.body}"


@when('the user searches their documents of the "{department}" department')
def step_filtered_search(context, department):
    """Retrieval through the gateway with a metadata filter on the department."""
    context.department = department
    context.exchange = context.session.api.retrieve(context.user_key, "Who handles this and how fast?", 10,
                                                    {"department": department})


@then("every document found belongs to that department")
def step_filter_respected(context):
    """No retrieved document has another department."""
    verdict = vector_gates.filter_verdict(context.exchange, context.department)
    context.evidence.check(verdict, exchange=context.exchange)


@when("a snapshot of the documents collection is taken")
def step_snapshot(context):
    """Create, list and delete a snapshot; skipped with the store's answer where snapshots are unsupported."""
    vector = context.session.profile.vector
    supported, context.snapshot_problem = vector_probe.snapshot_round_trip(
        _qdrant(context), vector.collection, vector.url, context.session.profile.secret("qdrant_api_key"))
    if not supported:
        context.scenario.skip(context.snapshot_problem)


@then("the snapshot restores into a collection with the same points")
def step_snapshot_restored(context):
    """The snapshot was listed and restored into a scratch collection with the same number of points."""
    problems = [context.snapshot_problem] if context.snapshot_problem else []
    verdict = Verdict.from_problems("snapshot round trip", problems, "create → list → upload-restore → count equal",
                                    "vector store")
    context.evidence.check(verdict)


@given("the vector store has stopped")
def step_vector_store_stopped(context):
    """Stop the vector store (started again when the scenario ends)."""
    context.add_cleanup(context.session.start_part, "vector_store")
    context.session.stop_part("vector_store")


@when('the user asks "{model}" a question without retrieval, then with retrieval')
def step_ask_both_ways(context, model):
    """One chat request without retrieval and one with it, as the user."""
    prompt = context.session.profile.probe.prompt
    key, api = context.user_key, context.session.api
    context.plain = context.session.gateway.request("POST", context.session.profile.gateway.chat_path,
                                                    context.session.gateway.chat_body(model, prompt, 16), auth=key.authorization)
    context.with_retrieval = api.ask_with_retrieval(key, model, prompt, 3, 16)


@then("the question without retrieval is answered")
def step_plain_answered(context):
    """200 for the chat request without retrieval."""
    ex = context.plain
    verdict = Verdict.from_problems("chat without the vector store", [] if ex.status == 200 else
                                    [f"expected 200, got {ex.status}: {str(ex.body)[:200]}"], "HTTP 200", ex.url)
    context.evidence.check(verdict, exchange=ex)


@then("the question with retrieval is refused as temporarily unavailable, with a clear message")
def step_retrieval_unavailable(context):
    """503 and an OpenAI error body whose message names the vector store."""
    ex = context.with_retrieval
    message = str((ex.body or {}).get("error", {}).get("message", "")) if isinstance(ex.body, dict) else ""
    problems = ([] if ex.status == 503 else [f"expected 503, got {ex.status}"]) + (
        [] if "vector store" in message else [f"expected the message to name the vector store, got {message!r}"])
    verdict = Verdict.from_problems("retrieval without the vector store", problems, "HTTP 503 naming the vector store", ex.url)
    context.evidence.check(verdict, exchange=ex)
