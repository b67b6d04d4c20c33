"""The few-bucket histogram the hot paths count into (signaling/stats.py)."""

from __future__ import annotations

import math

import pytest

from signaling.stats import Histogram


def test_a_value_lands_in_the_first_bucket_whose_bound_holds_it_and_cumulative_counts_add_up():
    histogram = Histogram((0.01, 0.1, 1.0))
    for value in (0.0, 0.01, 0.02, 0.1, 0.5, 3.0, 7.0):
        histogram.observe(value)
    # "le" is inclusive: 0.01 counts under 0.01, 0.1 under 0.1.
    assert histogram.counts == [2, 2, 1, 2]
    assert histogram.cumulative() == [(0.01, 2), (0.1, 4), (1.0, 5), (math.inf, 7)]
    assert histogram.count == 7
    assert histogram.sum == pytest.approx(10.63)


def test_an_empty_histogram_exports_zeros():
    assert Histogram((1, 2)).cumulative() == [(1.0, 0), (2.0, 0), (math.inf, 0)]
    assert Histogram((1, 2)).count == 0


@pytest.mark.parametrize("bounds", [(), (1.0, 1.0), (2.0, 1.0)])
def test_bounds_must_increase(bounds):
    with pytest.raises(ValueError, match="increasing"):
        Histogram(bounds)
