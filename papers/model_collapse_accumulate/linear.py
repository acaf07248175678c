"""The analytic framework of Section 2: a chain of linear models, each fit to the previous one's labels.

Setting (fixed design, re-derived from the paper's Section 2): X in R^{T x d} with i.i.d. N(0, I) rows,
y_1 = X w* + E_1, and generation i >= 2 relabels the same design with the previous fit,
y_i = X w_hat_{i-1} + E_i, E_i ~ N(0, sigma^2 I_T). The test error of generation n is
E_test(w_hat_n) = E[(x^T w_hat_n - x^T w*)^2] = E||w_hat_n - w*||^2 for x ~ N(0, I).

* replace:    w_hat_n = OLS on (X, y_n)                  -> w_hat_n - w* = sum_{i<=n} xi_i
* accumulate: w_hat_n = OLS on the union (X, y_1..y_n)   -> w_hat_n - w* = sum_{i<=n} xi_i / i
with xi_i = (X^T X)^{-1} X^T E_i independent, E[xi xi^T | X] = sigma^2 (X^T X)^{-1} and
E[(X^T X)^{-1}] = I / (T - d - 1) (inverse-Wishart mean), which gives the closed forms below.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

REGIMES = ("replace", "accumulate")


def replace_test_error(n, sigma: float, d: int, T: int):
    """Closed form for replace: n sigma^2 d / (T - d - 1) (Theorem of Dohmatob et al., restated in Sec. 2)."""
    return np.asarray(n, np.float64) * sigma**2 * d / (T - d - 1)


def accumulate_test_error(n, sigma: float, d: int, T: int):
    """Closed form for accumulate: sigma^2 d / (T - d - 1) * sum_{i<=n} 1/i^2 <= pi^2/6 * sigma^2 d/(T-d-1)."""
    n = np.atleast_1d(np.asarray(n, np.int64))
    partial = np.array([np.sum(1.0 / np.arange(1, k + 1, dtype=np.float64) ** 2) for k in n])
    return sigma**2 * d / (T - d - 1) * partial


def closed_form(regime: str, n, sigma: float, d: int, T: int):
    _regime_flag(regime)
    return {"replace": replace_test_error, "accumulate": accumulate_test_error}[regime](n, sigma, d, T)


def conditional_test_error(regime: str, X: np.ndarray, n_generations: int, sigma: float) -> np.ndarray:
    """E[||w_hat_n - w*||^2 | X] for n = 1..G: sigma^2 tr((X^T X)^{-1}) * (n or sum 1/i^2). Shape [G]."""
    tr = sigma**2 * np.trace(np.linalg.inv(X.T @ X))
    n = np.arange(1, n_generations + 1)
    factor = n if regime == "replace" else np.cumsum(1.0 / n.astype(np.float64) ** 2)
    return tr * factor


def _regime_flag(regime: str) -> float:
    if regime not in REGIMES:
        raise ValueError(f"unknown regime {regime!r}; expected one of {REGIMES}")
    return float(regime == "accumulate")


def run_chain(key: jax.Array, X: jax.Array, w_star: jax.Array, sigma, n_generations: int, regime) -> jax.Array:
    """Runs the model-data feedback loop on one design and returns ||w_hat_n - w*||^2 for n = 1..G ([G]).

    ``regime`` is "replace"/"accumulate" or a traced flag (1.0 = accumulate), so one compilation serves both.
    With the projection P = (X^T X)^{-1} X^T, replace fits w_hat_n = P y_n and accumulate fits the exact OLS
    solution on all n T rows of the union, (n X^T X)^{-1} X^T sum_i y_i = P (sum_i y_i) / n.
    """
    acc = _regime_flag(regime) if isinstance(regime, str) else regime
    proj = jnp.linalg.solve(X.T @ X, X.T)                   # [d, T]

    def step(carry, inputs):
        w_prev, y_sum = carry
        i, k = inputs                                       # i = generation index 1..G
        noise = sigma * jax.random.normal(k, (X.shape[0],), X.dtype)
        w_label = jnp.where(i == 1, w_star, w_prev)         # Sec. 2: y_1 = X w* + E_1, y_i = X w_hat_{i-1} + E_i
        y = X @ w_label + noise
        y_sum = acc * y_sum + y                             # replace keeps only y_i
        w = proj @ y_sum / (acc * i + (1.0 - acc))
        return (w, y_sum), jnp.sum((w - w_star) ** 2)

    keys = jax.random.split(key, n_generations)
    gens = jnp.arange(1, n_generations + 1, dtype=X.dtype)
    init = (jnp.zeros_like(w_star), jnp.zeros((X.shape[0],), X.dtype))
    _, errs = jax.lax.scan(step, init, (gens, keys))
    return errs


def monte_carlo(key: jax.Array, *, d: int, T: int, sigma, n_generations: int, reps: int, regime: str):
    """Monte Carlo over ``reps`` independent (X, w*, noise) draws, one after another (lax.map). Returns
    (errors [reps, G], conditional expectations given X [reps, G]) in float64 when x64 is on."""
    return _monte_carlo(key, jnp.asarray(_regime_flag(regime)), d=d, T=T, sigma=sigma,
                        n_generations=n_generations, reps=reps)


@functools.partial(jax.jit, static_argnames=("d", "T", "n_generations", "reps"))
def _monte_carlo(key, acc, *, d, T, sigma, n_generations, reps):
    dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    acc = acc.astype(dtype)

    def one(k):
        kx, kw, kn = jax.random.split(k, 3)
        X = jax.random.normal(kx, (T, d), dtype)
        w_star = jax.random.normal(kw, (d,), dtype)
        errs = run_chain(kn, X, w_star, sigma, n_generations, acc)
        tr = sigma**2 * jnp.trace(jnp.linalg.inv(X.T @ X))
        n = jnp.arange(1, n_generations + 1, dtype=dtype)
        factor = acc * jnp.cumsum(1.0 / n**2) + (1.0 - acc) * n
        return errs, tr * factor

    return jax.lax.map(one, jax.random.split(key, reps))
