"""The linear-regression chain against explicit least squares on stacked data and the closed forms."""
import math

import jax
import numpy as np
import pytest

from papers.model_collapse_accumulate import linear


def _explicit_chain(X, w_star, noises, regime):
    """Independent numpy reference: OLS with np.linalg.lstsq on the materialised (stacked) data sets."""
    ws, ys, errs = [], [], []
    for i, e in enumerate(noises):
        y = X @ (w_star if i == 0 else ws[-1]) + e
        ys.append(y)
        if regime == "replace":
            w = np.linalg.lstsq(X, y, rcond=None)[0]
        else:
            w = np.linalg.lstsq(np.vstack([X] * len(ys)), np.concatenate(ys), rcond=None)[0]
        ws.append(w)
        errs.append(np.sum((w - w_star) ** 2))
    return np.array(errs)


@pytest.mark.parametrize("regime", linear.REGIMES)
def test_chain_equals_explicit_least_squares_on_stacked_data(regime):
    with jax.enable_x64(True):
        T, d, G, sigma = 12, 3, 4, 0.7
        kx, kw, kn = jax.random.split(jax.random.PRNGKey(1), 3)
        X = np.asarray(jax.random.normal(kx, (T, d), "float64"))
        w_star = np.asarray(jax.random.normal(kw, (d,), "float64"))
        ours = np.asarray(linear.run_chain(kn, X, w_star, sigma, G, regime))
        noises = [sigma * np.asarray(jax.random.normal(k, (T,), "float64")) for k in jax.random.split(kn, G)]
        np.testing.assert_allclose(ours, _explicit_chain(X, w_star, noises, regime), rtol=1e-9)


def test_closed_forms_values_and_bound():
    n = np.arange(1, 201)
    base = 10 / 39
    np.testing.assert_allclose(linear.replace_test_error(n, 1.0, 10, 50), n * base)
    acc = linear.accumulate_test_error(n, 1.0, 10, 50)
    np.testing.assert_allclose(acc[:3], base * np.array([1, 1.25, 1.25 + 1 / 9]))
    assert np.all(np.diff(acc) > 0) and acc[-1] < math.pi**2 / 6 * base
    assert acc[-1] > 0.99 * math.pi**2 / 6 * base


def test_monte_carlo_conditional_mean_matches_inverse_wishart_and_mc():
    """E[tr (X^T X)^{-1}] = d/(T-d-1): the Rao-Blackwellised average hits the closed form tightly, and the
    raw Monte Carlo errors agree with it within a few standard errors."""
    with jax.enable_x64(True):
        for regime in linear.REGIMES:
            errs, cond = linear.monte_carlo(jax.random.PRNGKey(0), d=4, T=20, sigma=1.0, n_generations=6,
                                            reps=2000, regime=regime)
            cf = linear.closed_form(regime, np.arange(1, 7), 1.0, 4, 20)
            np.testing.assert_allclose(np.asarray(cond).mean(0), cf, rtol=0.03)
            errs = np.asarray(errs)
            sem = errs.std(0) / np.sqrt(len(errs))
            assert np.all(np.abs(errs.mean(0) - cf) < 5 * sem + 0.02 * cf)


def test_unknown_regime_raises():
    with pytest.raises(ValueError):
        linear.closed_form("mix", 1, 1.0, 2, 10)
    with pytest.raises(ValueError):
        linear.monte_carlo(jax.random.PRNGKey(0), d=2, T=10, sigma=1.0, n_generations=2, reps=2, regime="mix")
