"""Server-sent events with their arrival stamps: which first chunks the engine may report as exact."""
from __future__ import annotations

from citadel_acceptance.load.sse import SseReader

ROLE = b'data: {"choices": [{"delta": {"role": "assistant", "content": ""}}]}\n\n'
FIRST = b'data: {"choices": [{"delta": {"content": "Hello"}}]}\n\n'
SECOND = b'data: {"choices": [{"delta": {"content": " world"}}]}\n\n'
DONE = b"data: [DONE]\n\n"


def test_chunks_read_one_at_a_time_keep_their_own_stamps():
    reader = SseReader()
    for read, (part, arrival) in enumerate([(ROLE, 1.0), (FIRST, 1.05), (SECOND, 1.06), (DONE, 1.07)], start=1):
        reader.feed(part, arrival, read)
    assert reader.state.content_times == [1.05, 1.06] and reader.state.done_marker
    assert not reader.state.first_content_uncertain


def test_the_first_chunk_as_the_last_bytes_of_its_read_is_exact():
    reader = SseReader()
    reader.feed(ROLE + FIRST, 1.05, 1)  # the role chunk waited: the read is stamped with FIRST's arrival
    reader.feed(SECOND, 1.06, 2)
    assert reader.state.content_times == [1.05, 1.06] and not reader.state.first_content_uncertain


def test_a_first_chunk_read_together_with_a_later_one_is_flagged():
    reader = SseReader()
    reader.feed(ROLE, 1.0, 1)
    reader.feed(FIRST + SECOND, 1.06, 2)  # one part: both stamped with SECOND's arrival
    assert reader.state.content_times == [1.06, 1.06] and reader.state.first_content_uncertain


def test_a_later_part_of_the_same_read_flags_the_first_chunk():
    reader = SseReader()
    reader.feed(FIRST, 1.06, 7)  # HTTP chunks of one read come as parts of their own, all stamped alike
    assert not reader.state.first_content_uncertain
    reader.feed(SECOND, 1.06, 7)
    assert reader.state.first_content_uncertain


def test_a_chunk_split_across_reads_is_stamped_when_it_completes():
    reader = SseReader()
    reader.feed(FIRST[:20], 1.04, 1)
    reader.feed(FIRST[20:], 1.05, 2)
    reader.feed(SECOND, 1.06, 3)
    assert reader.state.content_times == [1.05, 1.06] and not reader.state.first_content_uncertain
