"""Verdicts and set-up of the vector gates (T2-006), from vector_probe measurements."""
from __future__ import annotations

import dataclasses
import math
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from citadel_acceptance.checks.vector import corpus

from citadel_acceptance.checks.vector import probe as vector_probe
from citadel_acceptance.config.endpoints import VectorSettings
from citadel_acceptance.config.thresholds import Gate
from citadel_acceptance.verdict import Verdict

if TYPE_CHECKING:
    from citadel_acceptance.run.session import RunSession


def collection_verdict(facts: vector_probe.CollectionFacts, expected: VectorSettings) -> Verdict:
    """The collection exists, green, with the profile's vector size and distance."""
    problems = [] if facts.exists else [f"collection {facts.name!r} does not exist"]
    if facts.exists:
        if facts.vector_size != expected.vector_size:
            problems.append(f"expected vector size {expected.vector_size}, the collection has {facts.vector_size}")
        if facts.distance.lower() != expected.distance.lower():
            problems.append(f"expected distance {expected.distance}, the collection has {facts.distance}")
        if facts.status != "green":
            problems.append(f"expected status green, the collection is {facts.status}")
    return Verdict.from_problems("documents collection", problems, "exists ∧ size ∧ distance ∧ status == green",
                                 expected.url, points=facts.points)


def payload_index_verdict(facts: vector_probe.CollectionFacts, expected: VectorSettings) -> Verdict:
    """Every payload field retrieval filters on (the profile's ``filter_fields``) has a payload index."""
    indexed = ", ".join(sorted(facts.payload_indexes)) or "none"
    problems = [] if facts.exists else [f"collection {facts.name!r} does not exist"]
    if facts.exists:
        problems += [f"field {field!r} has no payload index (indexed: {indexed}); a strict-mode Qdrant refuses "
                     "filters on it and every filtered search scans all points" for field in expected.filter_fields
                     if field not in facts.payload_indexes]
    return Verdict.from_problems("payload indexes", problems, f"{{{', '.join(expected.filter_fields)}}} ⊆ payload_schema",
                                 expected.url, payload_schema=dict(facts.payload_indexes))


RECALL_FORMULA = "mean over queries of |ANN top-10 ∩ exact top-10| / 10 (exact: the store's own exact search)"


def recall_verdict(gate: Gate, result: vector_probe.RecallResult, index: vector_probe.IndexPreparation) -> Verdict:
    """Recall@10 against the gate, on a collection whose searches went through its HNSW index; else not proven."""
    facts = index.after
    recall = round(result.recall, 4)
    details = {"n": result.queries, "index": index.as_evidence()}
    setting = (f"HNSW m={facts.m}, ef_construct={facts.ef_construct}, full_scan_threshold={facts.full_scan_threshold_kb} KB; "
               f"indexed_vectors_count {facts.indexed_vectors}, points {facts.points}")
    reason = unproven_recall(index)
    if reason:
        return Verdict(name="recall@10", passed=False, formula=RECALL_FORMULA, measured=recall, unit=gate.unit,
                       gate=gate, details=details,
                       explanation=f"recall@10 not proven: {reason} (measured {recall:g}, n={result.queries}; {setting})")
    verdict = gate.check(recall, "recall@10", RECALL_FORMULA, n=result.queries)
    return dataclasses.replace(verdict, explanation=f"{verdict.explanation}; {setting}", details=details)


def unproven_recall(index: vector_probe.IndexPreparation) -> str:
    """Why a recall measured on this collection says nothing about an HNSW index ("" when it does)."""
    facts = index.after
    if facts.indexed_vectors == 0:
        why = f"the collection has no HNSW index (indexed_vectors_count 0 of {facts.points} points)"
        return f"{why}: {index.problem}" if index.problem else f"{why}, so approximate search was the exact scan"
    if facts.vectors_kb < facts.full_scan_threshold_kb:
        return (f"the collection's vectors ({facts.vectors_kb:.0f} KB) are below its HNSW full_scan_threshold "
                f"({facts.full_scan_threshold_kb} KB), so every search was a full scan, not a graph search")
    if index.problem:
        return index.problem
    return ""


def embedding_shape_problems(answers: list[Any], size: int, distance: str) -> list[str]:
    """Every answer of POST /v1/embeddings holds vectors of the collection's size (and of unit length where the
    distance is the dot product, which assumes it); nothing embedded, or no declared size, is no data."""
    if not size:
        return ["no data: the profile declares no vector size ([vector] vector_size)"]
    if not answers:
        return ["no data: no text was embedded"]
    problems = []
    for i, answer in enumerate(answers):
        body = answer.body if isinstance(answer.body, dict) else {}
        vectors = [item.get("embedding") for item in body.get("data") or [] if isinstance(item, dict)]
        if answer.status != 200 or not vectors:
            problems.append(f"text {i}: expected HTTP 200 with embeddings, got {answer.status}: {str(answer.body)[:120]}")
            continue
        for vector in vectors:
            if not isinstance(vector, list) or not all(isinstance(x, (int, float)) for x in vector):
                problems.append(f"text {i}: the embedding is not a list of numbers")
            elif len(vector) != size:
                problems.append(f"text {i}: the embedding has {len(vector)} dimensions, the collection expects {size}")
            elif distance.lower() == "dot" and abs(math.fsum(x * x for x in vector) ** 0.5 - 1) > 0.01:
                problems.append(f"text {i}: the embedding's length is {math.fsum(x * x for x in vector) ** 0.5:.3f}, "
                                "not 1, which the dot-product distance assumes")
    return problems


def embedding_dimensions(answers: list[Any]) -> list[int]:
    """The distinct sizes of the embeddings answered (for the evidence)."""
    return sorted({len(item.get("embedding") or []) for answer in answers if isinstance(answer.body, dict)
                   for item in answer.body.get("data") or [] if isinstance(item, dict)})


def all_succeeded_verdict(gate: Gate, succeeded: int, errors: list[str]) -> Verdict:
    """Every one of the concurrent operations succeeded."""
    verdict = gate.check(succeeded, "concurrent vector operations",
                         "searches sent at once that answered (the fewest of any round)")
    if errors:
        verdict = Verdict(**{**verdict.__dict__, "explanation": f"{verdict.explanation}; errors: {errors[:3]}"})
    return verdict


def filter_verdict(found: Any, department: str) -> Verdict:
    """Every retrieved document carries the department of the filter."""
    data = found.body.get("data") if found.status == 200 and isinstance(found.body, dict) else None
    if data is None:
        problems = [f"expected 200 and a list of documents, got {found.status}: {str(found.body)[:200]}"]
    else:
        problems = [f"document {d.get('title')!r} has department {d.get('metadata', {}).get('department')!r}"
                    for d in data if d.get("metadata", {}).get("department") != department]
        if not data:
            problems.append("the search found nothing, so the filter cannot be judged")
    return Verdict.from_problems("metadata filter", problems, f"∀ found: metadata.department == {department}", found.url)


def ensure_sample(session: RunSession, count: int) -> int:
    """Store the seeded sample of documents once per run (as one run-owned user); returns documents stored."""
    run_data = session.run_data
    # The bulk loader is an operator's tool (admin role): 100 documents would exceed a user key's rate limit.
    key = getattr(run_data, "sample_key", None) or run_data.issue_key("sample-owner", role="admin")
    run_data.sample_key = key
    stored = sum(1 for owner, _ in run_data.documents if owner is key)
    # Four at a time, as a loader would (each store waits on the embedding service, PostgreSQL and the store);
    # the first refusal stops the loading.
    pending = corpus.sample_documents(count)[stored:]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for start in range(0, len(pending), 4):
            batch = pending[start:start + 4]
            for title, ex in pool.map(lambda doc: (doc[0], run_data.store(key, doc[1], doc[0], doc[2])), batch):
                if ex.status != 201:
                    raise AssertionError(f"expected 201 storing the sample document {title!r}, got {ex.status}: {ex.body}")
    return sum(1 for owner, _ in run_data.documents if owner is key)
