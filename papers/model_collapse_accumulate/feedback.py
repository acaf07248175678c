"""The model-data feedback loop of Sec. 2, shared by the VAE and language-model experiments.

Generation i fits a fresh model to the pool D_i and scores it; its samples S_i (as many as the real data)
become D_{i+1} = S_i under ``replace`` and D_{i+1} = D_i U S_i under ``accumulate``. The pool is a fixed
[N * G, ...] buffer whose first ``count`` rows are live, so every generation reuses one compiled program.
"""
from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

REGIMES = ("replace", "accumulate")


def run_chain(real, n_generations: int, regime: str, fit_and_score: Callable[[int, Any, Any], tuple[Any, float]],
              sample: Callable[[int, Any], Any]) -> list[float]:
    """Run the loop for one regime. fit_and_score(g, pool, count) -> (params, score); sample(g, params) ->
    synthetic data shaped like ``real``. Returns the score of every generation [G] (list)."""
    if regime not in REGIMES:
        raise ValueError(f"unknown regime {regime!r}; expected one of {REGIMES}")
    n = real.shape[0]
    pool = jnp.zeros((n * n_generations,) + real.shape[1:], real.dtype).at[:n].set(real)
    count, out = n, []
    for g in range(n_generations):
        params, score = fit_and_score(g, pool, jnp.asarray(count))
        out.append(float(score))
        if g + 1 == n_generations:
            break
        synth = sample(g, params)
        if regime == "replace":
            pool = pool.at[:n].set(synth)
        else:
            pool = pool.at[count:count + n].set(synth)
            count += n
    return out


def generation_keys(key, g: int, num: int):
    """The ``num`` keys of generation g (split of fold_in(key, g))."""
    return jax.random.split(jax.random.fold_in(key, g), num)
