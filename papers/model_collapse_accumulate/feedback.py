"""The model-data feedback loop of Sec. 2, shared by the VAE and language-model experiments.

Generation i fits a fresh model to the pool D_i and scores it; its samples S_i (as many as the real data)
become D_{i+1} = S_i under ``replace`` and D_{i+1} = D_i U S_i under ``accumulate``. The pool is a fixed
[N * G, ...] buffer whose first ``count`` rows are live, so every generation reuses one compiled program.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from common.training import NonFiniteError

REGIMES = ("replace", "accumulate")


def run_chain(real, n_generations: int, regime: str, fit_and_score: Callable[[int, Any, Any], tuple[Any, float]],
              sample: Callable[[int, Any], Any]) -> list[float]:
    """Run the loop for one regime. fit_and_score(g, pool, count) -> (params, score); sample(g, params) ->
    synthetic data shaped like ``real``. Returns the score of every generation [G] (list); a non-finite
    score raises NonFiniteError naming the generation (1-based)."""
    if regime not in REGIMES:
        raise ValueError(f"unknown regime {regime!r}; expected one of {REGIMES}")
    n = real.shape[0]
    pool = jnp.zeros((n * n_generations,) + real.shape[1:], real.dtype).at[:n].set(real)
    count, out = n, []
    for g in range(n_generations):
        params, score = fit_and_score(g, pool, jnp.asarray(count))
        if not math.isfinite(float(score)):
            raise NonFiniteError(f"{regime}: non-finite held-out score {float(score)} in generation {g + 1}")
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


def check_training(what: str, g: int, losses, grad_norms) -> None:
    """Raises NonFiniteError naming the generation (1-based) and the first optimiser step whose training
    loss or gradient norm (arrays [steps]) is NaN or Inf; the fail-fast check of one generation's fit."""
    bad = ~(np.isfinite(np.asarray(losses, np.float64)) & np.isfinite(np.asarray(grad_norms, np.float64)))
    if bad.any():
        step = int(np.argmax(bad))
        raise NonFiniteError(f"{what}: non-finite training loss or gradient norm at step {step + 1} of "
                             f"generation {g + 1} (loss {float(np.asarray(losses)[step])}, grad norm "
                             f"{float(np.asarray(grad_norms)[step])}). Lower the learning rate or check the data.")


def generation_keys(key, g: int, num: int):
    """The ``num`` keys of generation g (split of fold_in(key, g))."""
    return jax.random.split(jax.random.fold_in(key, g), num)
