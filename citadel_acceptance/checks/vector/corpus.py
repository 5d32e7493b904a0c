"""Synthetic but readable documents for the vector gates: seeded, so every run stores the same sample."""
from __future__ import annotations

import random

DEPARTMENTS = ("finance", "facilities", "engineering", "legal")
_SUBJECTS = {
    "finance": ["invoice", "refund", "budget", "expense report", "payroll"],
    "facilities": ["cafeteria", "parking", "meeting room", "badge", "heating"],
    "engineering": ["deployment", "code review", "incident", "database migration", "release"],
    "legal": ["contract", "privacy notice", "trademark", "compliance audit", "data retention"],
}
_VERBS = ["must be approved by", "is handled by", "is reviewed every quarter by", "is announced to", "is archived by"]
_WHO = ["the team lead", "the operations desk", "the regional office", "the security officer", "the on-call engineer"]


def sample_documents(count: int, seed: int = 2026) -> list[tuple[str, str, dict[str, str]]]:
    """`count` documents as (title, content, metadata) spread over the departments."""
    rng = random.Random(seed)
    documents = []
    for i in range(count):
        department = DEPARTMENTS[i % len(DEPARTMENTS)]
        subject = rng.choice(_SUBJECTS[department])
        # Short (about 17 tokens): storing the sample embeds every document, and that time is the text's.
        content = f"Note {i}: each {subject} {rng.choice(_VERBS)} {rng.choice(_WHO)} within {rng.randint(1, 30)} days."
        documents.append((f"{department} note {i}", content, {"department": department}))
    return documents


def queries(count: int, seed: int = 7) -> list[str]:
    """Questions in the language of the sample documents."""
    rng = random.Random(seed)
    subjects = [s for group in _SUBJECTS.values() for s in group]
    return [f"Who takes care of the {rng.choice(subjects)} and how fast?" for _ in range(count)]
