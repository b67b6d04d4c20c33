"""Buy-till-you-die: is a customer still active, and what will they buy and spend?

BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy way")
for the number of purchases and the probability of being alive, and the
Gamma-Gamma model (Fader and Hardie 2013) for the average order value, both
fitted by maximum likelihood on the published likelihoods with scipy. The
``lifetimes`` library implements the same but no longer imports cleanly with
current pandas; PyMC-Marketing's Bayesian versions would pull in a compiler
toolchain for what is a four-parameter optimisation.

Time is in a unit the caller chooses (weeks by default in :func:`summarise`);
for each customer ``x`` is the number of repeat purchases (purchases after the
first, several on one day counting once), ``t_x`` the time of the last one and
``T`` the time they have been observed, both since their first purchase.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from desktop.analytics.orders import DAY, AnalyticsError, Order, is_purchase

__all__ = [
    "Summary", "BgNbd", "GammaGamma", "summarise", "fit_bgnbd", "fit_gamma_gamma",
    "probability_alive", "expected_purchases", "expected_spend", "at_risk_reasons",
]

# Parameters are fitted as logs inside these bounds: far beyond any real
# population, they stop a degenerate data set (nobody bought twice) from
# running the optimiser to infinity.
_LOG_BOUNDS = (-12.0, 12.0)


@dataclass(frozen=True)
class Summary:
    """Per-customer inputs of the models, aligned arrays."""

    customer_ids: tuple[str, ...]
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    #: Mean value of the repeat purchases (minor units); 0 when x == 0.
    mean_value: np.ndarray


@dataclass(frozen=True, slots=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float


@dataclass(frozen=True, slots=True)
class GammaGamma:
    p: float
    q: float
    v: float  # the scale, gamma in the paper
    log_likelihood: float


def summarise(orders: Iterable[Order], *, end: float, unit_days: float = 7.0) -> Summary:
    """The models' inputs from orders placed before ``end``.

    Purchases on the same day count once (summed); refunds and zero-value orders
    are not purchases. Customers with no purchase are left out.
    """
    days: dict[str, dict[int, int]] = {}
    for order in orders:
        if order.placed_at < end and is_purchase(order):
            day = int(order.placed_at // DAY)
            per_day = days.setdefault(order.customer_id, {})
            per_day[day] = per_day.get(day, 0) + order.value_cents
    ids = tuple(sorted(days))
    n = len(ids)
    x, t_x, T, mean_value = (np.zeros(n) for _ in range(4))
    end_day = end / DAY
    for i, cid in enumerate(ids):
        ordered = sorted(days[cid])
        first = ordered[0]
        x[i] = len(ordered) - 1
        t_x[i] = (ordered[-1] - first) / unit_days
        # Whole days, like the purchase times, so that t_x <= T always holds.
        T[i] = max(float(np.floor(end_day) - first), ordered[-1] - first) / unit_days
        if len(ordered) > 1:
            mean_value[i] = sum(days[cid][d] for d in ordered[1:]) / (len(ordered) - 1)
    return Summary(ids, x, t_x, T, mean_value)


def _bgnbd_ll(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each customer's log-likelihood, FHL 2005 equation (6) in log space."""
    r, alpha, a, b = params
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    beta_ab = special.betaln(a, b)
    alive = special.betaln(a, b + x) - beta_ab - (r + x) * np.log(alpha + T)
    repeat = x > 0
    dropped = np.full_like(x, -np.inf)
    dropped[repeat] = (special.betaln(a + 1, b + x[repeat] - 1) - beta_ab
                       - (r + x[repeat]) * np.log(alpha + t_x[repeat]))
    return common + np.logaddexp(alive, dropped)


def fit_bgnbd(summary: Summary) -> BgNbd:
    """Maximum-likelihood r, alpha, a, b. Raises :class:`AnalyticsError` with no customers."""
    return fit_bgnbd_arrays(summary.x, summary.t_x, summary.T)


def fit_bgnbd_arrays(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> BgNbd:
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if x.size == 0:
        raise AnalyticsError("BG/NBD needs at least one customer with a purchase")
    if np.any(t_x > T) or np.any(t_x < 0) or np.any(x < 0):
        raise AnalyticsError("BG/NBD inputs need 0 <= t_x <= T and x >= 0")
    T = np.maximum(T, 1e-9)  # a customer first seen at the very end
    # Customers with the same (x, t_x, T) share a likelihood: fit each once, weighted.
    unique, weight = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    x, t_x, T = unique.T

    def negative(log_params: np.ndarray) -> float:
        value = -(weight * _bgnbd_ll(np.exp(log_params), x, t_x, T)).sum()
        return value if np.isfinite(value) else 1e300

    result = optimize.minimize(negative, np.zeros(4), method="L-BFGS-B", bounds=[_LOG_BOUNDS] * 4)
    r, alpha, a, b = np.exp(result.x)
    return BgNbd(float(r), float(alpha), float(a), float(b), float(-result.fun))


def probability_alive(m: BgNbd, s: Summary) -> np.ndarray:
    """P(still active | x, t_x, T), FHL 2005 equation (11)."""
    odds = np.zeros_like(s.x)
    repeat = s.x > 0
    xr = s.x[repeat]
    log_odds = (np.log(m.a) - np.log(m.b + xr - 1)
                + (m.r + xr) * (np.log(m.alpha + s.T[repeat]) - np.log(m.alpha + s.t_x[repeat])))
    odds[repeat] = np.exp(np.minimum(log_odds, 700.0))
    return 1.0 / (1.0 + odds)


def expected_purchases(m: BgNbd, s: Summary, t: float) -> np.ndarray:
    """Expected purchases in the next ``t`` units, FHL 2005 equation (10)."""
    if t <= 0:
        raise AnalyticsError(f"The horizon must be positive, not {t!r}")
    r, alpha, a, b = m.r, m.alpha, m.a, m.b
    x, T = s.x, s.T
    z = t / (alpha + T + t)
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    head = (a + b + x - 1) / (a - 1) if abs(a - 1) > 1e-9 else np.full_like(x, np.nan)
    body = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
    value = head * body * probability_alive(m, s)
    return np.where(np.isfinite(value) & (value >= 0), value, 0.0)


def _gg_ll(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    p, q, v = params
    return (special.gammaln(p * x + q) - special.gammaln(p * x) - special.gammaln(q)
            + q * np.log(v) + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(v + x * m))


def fit_gamma_gamma(x: np.ndarray, mean_value: np.ndarray) -> GammaGamma:
    """p, q, v from repeat customers (x > 0) with a positive mean value.

    Raises :class:`AnalyticsError` when fewer than two such customers exist.
    """
    x, mean_value = np.asarray(x, dtype=float), np.asarray(mean_value, dtype=float)
    keep = (x > 0) & (mean_value > 0)
    if keep.sum() < 2:
        raise AnalyticsError("Gamma-Gamma needs at least two customers who bought more than once")
    unique, weight = np.unique(np.column_stack([x[keep], mean_value[keep]]), axis=0, return_counts=True)
    xs, ms = unique.T
    # Fit in the data's own scale so the optimiser starts near the answer.
    scale = float(np.median(mean_value[keep]))

    def negative(log_params: np.ndarray) -> float:
        value = -(weight * _gg_ll(np.exp(log_params), xs, ms / scale)).sum()
        return value if np.isfinite(value) else 1e300

    result = optimize.minimize(negative, np.zeros(3), method="L-BFGS-B", bounds=[_LOG_BOUNDS] * 3)
    p, q, v = np.exp(result.x)
    # Undo the scaling: v is in value units; the likelihood of m/scale differs by the Jacobian.
    ll = float(-result.fun - np.sum(np.log(scale)) * keep.sum())
    return GammaGamma(float(p), float(q), float(v * scale), ll)


def expected_spend(m: GammaGamma, x: np.ndarray, mean_value: np.ndarray) -> np.ndarray:
    """Expected average order value given x repeat purchases of mean ``mean_value``."""
    x = np.asarray(x, dtype=float)
    mean_value = np.asarray(mean_value, dtype=float)
    population = m.p * m.v / (m.q - 1) if m.q > 1 else float("nan")
    conditional = m.p * (m.v + x * mean_value) / (m.p * x + m.q - 1)
    return np.where((x > 0) & (mean_value > 0), conditional, population)


def at_risk_reasons(*, tier_trend: str, previous_tier: str | None, tier: str,
                    p_alive: float | None, threshold: float) -> list[str]:
    """Why a customer is at risk, in words an agent can read (empty: not at risk)."""
    reasons = []
    if tier_trend == "down":
        reasons.append(f"tier fell from {previous_tier} to {tier}")
    if p_alive is not None and p_alive < threshold:
        reasons.append(f"probability still active {p_alive:.0%} (below {threshold:.0%})")
    return reasons


