"""Causal training of PINNs (Wang, Sankaran & Perdikaris 2022, Sec. 3 and Algorithm 1).

With the time domain cut into N_t slices t_1 < ... < t_Nt and L_r(t_i) the mean squared residual at t_i,

    L_r(theta)   = (1 / N_t) sum_i  w_i L_r(t_i, theta)                         (causal residual loss)
    w_i          = exp(-eps * (lambda_ic L_ic + sum_{k < i} L_r(t_k, theta)))   (under stop-gradient)

so that a slice is trained only once every earlier slice (and the initial condition) has a small residual.
eps is annealed through an increasing list, moving on when min_i w_i > delta (delta = 0.99); the same
test at the last eps is the convergence indicator. Vanilla PINN training is the special case w_i = 1.

Functions here are pure; shapes are stated per argument.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def exclusive_cumsum(x: jax.Array) -> jax.Array:
    """[N] -> [N]: s_i = sum_{k < i} x_k (s_1 = 0), the lower-triangular matrix M of the paper's code."""
    return jnp.cumsum(x) - x


def causal_weights(slice_losses: jax.Array, eps, ic_loss=0.0) -> jax.Array:
    """w_i = exp(-eps (ic_loss + sum_{k<i} L_r(t_k))), stop-gradient (Sec. 3). slice_losses: [N_t] -> [N_t]."""
    return jax.lax.stop_gradient(jnp.exp(-eps * (ic_loss + exclusive_cumsum(slice_losses))))


def causal_residual_loss(slice_losses: jax.Array, eps, ic_loss=0.0) -> tuple[jax.Array, jax.Array]:
    """(1/N_t) sum_i w_i L_r(t_i) and the weights w ([N_t]); Algorithm 1, the loss of line 'update theta'."""
    w = causal_weights(slice_losses, eps, ic_loss)
    return jnp.mean(w * slice_losses), w


def vanilla_residual_loss(slice_losses: jax.Array) -> jax.Array:
    """The unweighted PINN residual loss (1/N_t) sum_i L_r(t_i) (w_i = 1)."""
    return jnp.mean(slice_losses)


def anneal_epsilon(eps_index: jax.Array, min_weight: jax.Array, delta: float, num_eps: int,
                   out_of_steps=False) -> jax.Array:
    """Algorithm 1: move to the next eps of the list when min_i w_i > delta, or when the stage has spent its
    step budget (the official code's ``nIter`` per eps); stays at the last eps."""
    advance = ((min_weight > delta) | out_of_steps) & (eps_index < num_eps - 1)
    return jnp.where(advance, eps_index + 1, eps_index)


def converged(eps_index, min_weight, delta: float, num_eps: int):
    """The paper's stopping / convergence criterion: the last eps is reached and min_i w_i > delta."""
    return (eps_index == num_eps - 1) & (min_weight > delta)


def window_finished(eps_index, min_weight, delta: float, num_eps: int, out_of_steps=False):
    """A window's training ends when it has converged, or when its last eps stage has spent its step budget."""
    return converged(eps_index, min_weight, delta, num_eps) | ((eps_index == num_eps - 1) & out_of_steps)


def time_windows(t_final: float, window: float) -> list[tuple[float, float]]:
    """Time-marching windows [(0, dt), (dt, 2 dt), ...] covering [0, t_final] (Sec. 3, time marching)."""
    n = int(round(t_final / window))
    if n < 1 or abs(n * window - t_final) > 1e-9 * max(1.0, t_final):
        raise ValueError(f"t_final={t_final} is not a multiple of window={window}")
    return [(k * window, (k + 1) * window) for k in range(n)]


def relative_l2(pred, ref) -> float:
    """||pred - ref||_2 / ||ref||_2 over all entries (the paper's error metric)."""
    pred, ref = np.asarray(pred, np.float64), np.asarray(ref, np.float64)
    return float(np.linalg.norm(pred - ref) / np.linalg.norm(ref))
