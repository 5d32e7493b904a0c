"""The load metrics follow the measurement glossary exactly (DESIGN.md)."""
from __future__ import annotations

import pytest

from citadel_acceptance.load import FORMULAS, LatencyTargets, Percentile, RequestRecord, nearest_rank, summarize


def record(index: int, *, scheduled: float = 0.0, sent: float | None = 0.0, chunks: tuple[float, ...] = (),
           end: float | None = 1.0, status: int | None = 200, tokens: int | None = None, error: str = "",
           warmup: bool = False) -> RequestRecord:
    return RequestRecord(index=index, request_id=f"r{index}", scheduled=scheduled, sent=sent,
                         first_content=chunks[0] if chunks else None, chunk_times=list(chunks), end=end,
                         status=status, output_tokens=tokens, error=error, done_marker=True, streamed=True,
                         warmup=warmup)


def test_nearest_rank_on_known_lists_reports_n():
    ten = [float(v) for v in range(1, 11)]
    assert nearest_rank(ten, 50) == Percentile(5.0, 10, 50)
    assert nearest_rank(ten, 90) == Percentile(9.0, 10, 90)
    assert nearest_rank(ten, 95) == Percentile(10.0, 10, 95)
    assert nearest_rank(ten, 100).value == 10.0
    assert nearest_rank(ten, 0).value == 1.0
    assert nearest_rank([3.0, 1.0, 2.0], 50) == Percentile(2.0, 3, 50)  # unsorted input
    assert nearest_rank([], 95) == Percentile(None, 0, 95)
    with pytest.raises(ValueError, match="0..100"):
        nearest_rank([1.0], 101)


def test_nearest_rank_never_interpolates():
    # nearest rank of p99 over 4 samples is the 4th; an interpolating method would give less
    assert nearest_rank([0.1, 0.2, 0.3, 10.0], 99).value == 10.0
    assert nearest_rank([0.1, 0.2, 0.3, 10.0], 75).value == 0.3


def test_tpot_comes_from_usage_and_is_undefined_without_it():
    with_usage = record(0, sent=1.0, chunks=(1.1, 1.2, 1.3), end=1.5, tokens=5)
    assert with_usage.ttft == pytest.approx(0.1)
    assert with_usage.e2e == pytest.approx(0.5)
    assert with_usage.tpot == pytest.approx((0.5 - 0.1) / 4)  # 5 tokens from usage, not 3 chunks
    no_usage = record(1, sent=1.0, chunks=(1.1, 1.2, 1.3), end=1.5, tokens=None)
    assert no_usage.tpot is None
    one_token = record(2, sent=1.0, chunks=(1.1,), end=1.2, tokens=1)
    assert one_token.tpot is None
    summary = summarize([with_usage, no_usage])
    assert summary.tpot.n == 1 and summary.ttft.n == 2


def test_itl_pools_every_gap_of_every_successful_request():
    a = record(0, chunks=(0.10, 0.12, 0.15), end=0.2)
    b = record(1, chunks=(0.30, 0.31), end=0.4)
    failed = record(2, chunks=(0.5, 0.9), end=1.0, status=500, error="HTTP 500: boom")
    summary = summarize([a, b, failed])
    assert sorted(summary.itl.samples) == pytest.approx([0.01, 0.02, 0.03])
    assert summary.itl.percentile(50) == Percentile(pytest.approx(0.02), 3, 50)


def test_e2e_from_scheduled_shows_what_a_lagging_send_hides():
    on_time = record(0, scheduled=1.0, sent=1.0, end=1.2)
    lagging = record(1, scheduled=2.0, sent=2.5, end=2.7)
    assert lagging.schedule_lag == pytest.approx(0.5)
    assert lagging.e2e == pytest.approx(0.2)
    assert lagging.e2e_from_scheduled == pytest.approx(0.7)
    summary = summarize([on_time, lagging])
    assert summary.e2e.percentile(100).value == pytest.approx(0.2)
    assert summary.e2e_from_scheduled.percentile(100).value == pytest.approx(0.7)
    assert summary.schedule_lag.percentile(100) == Percentile(pytest.approx(0.5), 2, 100)


def test_goodput_counts_only_requests_meeting_every_target():
    records = [
        record(0, sent=0.0, chunks=(0.05, 0.06), end=0.5, tokens=2),   # meets both
        record(1, sent=1.0, chunks=(1.30, 1.31), end=1.5, tokens=2),   # TTFT 0.3 misses
        record(2, sent=2.0, chunks=(2.05, 2.06), end=3.0, tokens=2),   # E2E 1.0 misses
        record(3, sent=3.0, chunks=(3.05, 3.06), end=3.5, tokens=2, status=500, error="HTTP 500: x"),
    ]
    targets = LatencyTargets(ttft_s=0.1, e2e_s=0.6)
    summary = summarize(records, window_start=0.0, window_end=4.0, targets=targets)
    assert summary.met_targets == 1
    assert summary.goodput == pytest.approx(1 / 4.0)
    assert summary.throughput == pytest.approx(3 / 4.0)
    assert "TTFT ≤ 100 ms" in summary.targets.describe()


def test_a_target_on_an_undefined_metric_is_not_met():
    no_usage = record(0, sent=0.0, chunks=(0.05, 0.06), end=0.5, tokens=None)
    assert not LatencyTargets(tpot_s=1.0).met_by(no_usage)
    assert LatencyTargets(e2e_s=1.0).met_by(no_usage)


def test_error_rate_counts_timeouts_broken_streams_and_non_2xx_over_all_sent():
    records = [record(i) for i in range(6)]
    records += [record(6, status=None, end=30.0, error="timeout: no complete answer within 30 s"),
                record(7, status=200, error="broken stream: the stream ended without data: [DONE]"),
                record(8, status=503, error="HTTP 503: busy"),
                record(9, warmup=True, status=500, error="HTTP 500: warm-up is not measured")]
    summary = summarize(records)
    assert summary.sent == 9 and summary.errors == 3
    assert summary.error_rate == pytest.approx(3 / 9)
    assert summary.error_kinds == {"timeout": 1, "broken stream": 1, "HTTP 503": 1}


def test_summary_carries_the_formula_of_every_metric():
    summary = summarize([record(0, chunks=(0.1,), end=0.2)])
    view = summary.as_dict()
    for metric in ("ttft", "e2e", "e2e_from_scheduled", "tpot", "itl", "goodput", "error_rate", "throughput"):
        assert view["formulas"][metric] == FORMULAS[metric]
    assert view["ttft"]["n"] == 1 and "p95_s" in view["ttft"]
    assert "(output tokens − 1)" in FORMULAS["tpot"]


def test_the_latency_histogram_draws_answers_that_all_took_the_same_time():
    """numpy refuses 40 bins over a range that float rounding blurs (75.0 and 75.00000000001 ms): one bin then."""
    from citadel_acceptance.load.export import latency_histogram_png
    from citadel_acceptance.load.records import RequestRecord

    same = [RequestRecord(index=i, request_id=str(i), scheduled=i / 3, sent=i / 3, first_content=i / 3 + 0.0375,
                          end=i / 3 + 0.075, status=200, streamed=True) for i in range(30)]
    assert latency_histogram_png(same).startswith(b"\x89PNG")
