"""The API gates' pure verdicts (citadel_acceptance.checks.api.verdicts)."""
from __future__ import annotations

from citadel_acceptance.checks.api.verdicts import incremental_problems


def test_a_stream_that_arrives_in_one_burst_was_not_written_as_generated():
    assert incremental_problems([120.0, 160.0, 200.0, 240.0, 280.0, 320.0]) == []
    burst = incremental_problems([900.0, 900.01, 900.02, 900.03, 900.05, 900.06])
    assert burst and "0 of 6 chunks with text arrived more than 5 ms before the last" in burst[0]
    assert incremental_problems([100.0, 900.0, 900.01, 900.02, 900.03, 900.04]) != [], "one early chunk in six is a burst"
    assert incremental_problems([900.0]) == [], "one chunk: the count of pieces says so"


def test_a_completion_without_usage_is_complete_and_fails_only_the_usage_gate():
    """Each Then-step judges its own promise: were usage judged by the completion step too, a missing usage would stop
    the chat scenario there and its usage step could never be shown failing (issue 16, completeness per Then-step)."""
    from citadel_acceptance.checks.api.verdicts import chat_completion_problems, usage_problems

    body = {"object": "chat.completion", "id": "c1", "model": "phi3",
            "choices": [{"message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}]}
    assert chat_completion_problems(body, "phi3") == []
    assert usage_problems(body.get("usage"), "the answer") == ["expected a usage object in the answer, got None"]
