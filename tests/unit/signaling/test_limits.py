"""Examples of the per-connection rate limit (``signaling.limits.TokenBucket``), clock passed in."""

from __future__ import annotations

import pytest

from signaling.limits import TokenBucket, describe_wait


def test_a_full_bucket_allows_a_burst_then_refuses():
    bucket = TokenBucket(rate=2.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]


def test_tokens_come_back_at_the_rate_and_never_beyond_the_burst():
    bucket = TokenBucket(rate=2.0, burst=3, now=0.0)
    for _ in range(3):
        bucket.take(0.0)
    assert not bucket.take(0.4)  # 0.8 of a token
    assert bucket.take(0.5)      # 1 token back after half a second
    assert not bucket.take(0.5)
    # A long quiet spell refills to the burst, no more.
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]


def test_a_refused_take_spends_nothing():
    bucket = TokenBucket(rate=1.0, burst=1, now=0.0)
    assert bucket.take(0.0)
    for t in (0.1, 0.2, 0.3):
        assert not bucket.take(t)
    assert bucket.take(1.0)  # refusals did not push the refill back


def test_a_clock_going_backwards_adds_no_tokens():
    bucket = TokenBucket(rate=1.0, burst=1, now=10.0)
    assert bucket.take(10.0)
    assert not bucket.take(5.0)


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-1.0, 5), (1.0, 0)])
def test_a_bucket_that_could_never_allow_anything_is_refused(rate, burst):
    with pytest.raises(ValueError, match="rate must be > 0 and burst >= 1"):
        TokenBucket(rate=rate, burst=burst, now=0.0)


@pytest.mark.parametrize(("seconds", "words"), [
    (0.0, "in 1 second"), (1.0, "in 1 second"), (1.2, "in 2 seconds"), (60.0, "in 60 seconds"),
    (60.5, "in 2 minutes"), (3600.0, "in 60 minutes"), (3601.0, "in 2 hours"),
])
def test_a_wait_is_told_rounded_up_so_trying_then_works(seconds, words):
    assert describe_wait(seconds) == words
