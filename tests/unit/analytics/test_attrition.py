"""BG/NBD and Gamma-Gamma against their published fits on CDNOW, and inputs by hand.

The CDNOW summary (2,357 customers, weeks) is the one the ``lifetimes`` wheel
ships; it is read as a file, so the library need not import.
"""

from __future__ import annotations

import csv
import importlib.metadata

import numpy as np
import pytest

from desktop.analytics import AnalyticsError, Order
from desktop.analytics.attrition import (
    BgNbd, fit_bgnbd_arrays, fit_gamma_gamma, expected_purchases, expected_spend,
    probability_alive, summarise, Summary,
)

DAY = 86400.0


def cdnow() -> dict[str, np.ndarray]:
    try:
        dist = importlib.metadata.distribution("lifetimes")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("the lifetimes wheel (test extra) carries the CDNOW sample")
    path = dist.locate_file("lifetimes/datasets/cdnow_customers_summary_with_transactions.csv")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {key: np.array([float(r[key]) for r in rows]) for key in ("x", "t_x", "T", "zbar")}


def test_bgnbd_reproduces_fader_hardie_lee_2005_on_cdnow():
    data = cdnow()
    assert len(data["x"]) == 2357
    fit = fit_bgnbd_arrays(data["x"], data["t_x"], data["T"])
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "log_likelihood": -9582.4}
    for name, value in published.items():
        assert getattr(fit, name) == pytest.approx(value, rel=0.01), name


def test_gamma_gamma_reproduces_fader_hardie_2013_on_cdnow():
    data = cdnow()
    fit = fit_gamma_gamma(data["x"], data["zbar"])
    assert (fit.p, fit.q, fit.v) == pytest.approx((6.25, 3.74, 15.44), rel=0.01)
    # Someone with no repeat purchase is expected to spend the population mean p*v/(q-1).
    assert expected_spend(fit, np.array([0.0]), np.array([0.0]))[0] == pytest.approx(
        fit.p * fit.v / (fit.q - 1))


def test_probability_alive_and_expected_purchases_by_hand():
    m = BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0)
    s = Summary(("new", "keen", "gone"), np.array([0.0, 5.0, 5.0]), np.array([0.0, 38.0, 5.0]),
                np.array([38.86, 38.86, 38.86]), np.zeros(3))
    alive = probability_alive(m, s)
    assert alive[0] == 1.0  # no repeat purchase: BG/NBD cannot have seen them drop
    # FHL eq. (11) for x=5, t_x=5, T=38.86 worked out by hand:
    odds = 0.793 / (2.426 + 4) * ((4.414 + 38.86) / (4.414 + 5)) ** (0.243 + 5)
    assert alive[2] == pytest.approx(1 / (1 + odds))
    assert alive[1] > 0.8 > 0.1 > alive[2]
    expected = expected_purchases(m, s, 39.0)
    assert expected[1] > expected[0] > expected[2] >= 0


def test_expected_purchases_of_the_worked_cdnow_customer():
    # x=2, t_x=30.43, T=38.86 over the next 39 weeks: 1.226 (the lifetimes
    # README's worked example of FHL eq. 10 with the fitted CDNOW parameters).
    m = BgNbd(r=0.242593, alpha=4.413532, a=0.792886, b=2.425752, log_likelihood=0)
    s = Summary(("id1",), np.array([2.0]), np.array([30.43]), np.array([38.86]), np.zeros(1))
    assert expected_purchases(m, s, 39.0)[0] == pytest.approx(1.226, abs=5e-4)


def test_summary_counts_repeat_days_and_ignores_refunds_and_free_orders():
    end = 100 * DAY
    orders = [
        Order("a", 10 * DAY, 1000), Order("a", 10 * DAY + 3600, 500),  # one day, one purchase
        Order("a", 24 * DAY, 3000), Order("a", 30 * DAY, -3000), Order("a", 31 * DAY, 0),
        Order("b", 50 * DAY, 700),
        Order("c", 60 * DAY, -100),  # only a refund: not a customer of the model
    ]
    s = summarise(orders, end=end, unit_days=7)
    assert s.customer_ids == ("a", "b")
    assert list(s.x) == [1, 0]
    assert list(s.t_x) == pytest.approx([2.0, 0.0])
    assert list(s.T) == pytest.approx([90 / 7, 50 / 7])
    assert list(s.mean_value) == [3000, 0]


def test_degenerate_data_fits_without_crashing():
    # Nobody bought twice: the likelihood has no maximum inside; the bounds stop it.
    fit = fit_bgnbd_arrays(np.zeros(50), np.zeros(50), np.linspace(1, 50, 50))
    assert np.isfinite([fit.r, fit.alpha, fit.a, fit.b, fit.log_likelihood]).all()
    with pytest.raises(AnalyticsError):
        fit_bgnbd_arrays(np.array([]), np.array([]), np.array([]))
    with pytest.raises(AnalyticsError):
        fit_gamma_gamma(np.array([0.0, 1.0]), np.array([0.0, 5.0]))
    with pytest.raises(AnalyticsError):
        fit_bgnbd_arrays(np.array([1.0]), np.array([5.0]), np.array([4.0]))  # t_x > T
