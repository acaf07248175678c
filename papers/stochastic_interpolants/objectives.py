"""The quadratic objectives of the paper, with antithetic sampling x_t^{+-} = m +- sigma n.

Shapes: t [B], x0, x1, z [B, ...]; a field model is ``f(t [B], x [B, ...]) -> [B, ...]``.
All losses are Monte-Carlo means over the batch of the per-sample integrand (t ~ U is in the batch).
"""
from __future__ import annotations

import jax.numpy as jnp


def _sq(v):
    return jnp.sum(v.reshape(v.shape[0], -1) ** 2, -1)


def _dot(u, v):
    return jnp.sum((u * v).reshape(u.shape[0], -1), -1)


def loss_b(b_fn, interpolant, t, x0, x1, z):
    """L_b = E[ |b(t, x_t)|^2 - 2 (d_t I + dgamma z) . b(t, x_t) ], antithetic in n.

    Its minimiser is b = E[d_t x_t | x_t]; its minimum is -E|b|^2.
    """
    m, dm, sigma, dsigma, n = interpolant.split(t, x0, x1, z)
    bp, bm = b_fn(t, m + sigma * n), b_fn(t, m - sigma * n)
    return 0.5 * jnp.mean(_sq(bp) - 2 * _dot(dm + dsigma * n, bp) + _sq(bm) - 2 * _dot(dm - dsigma * n, bm))


def loss_s(s_fn, interpolant, t, x0, x1, z):
    """L_s = E[ |s(t, x_t)|^2 + 2 sigma^{-1} n . s(t, x_t) ], antithetic in n.

    sigma = gamma (two-sided) or alpha (one-sided); the minimiser is the score grad log rho_t.
    Needs sigma(t) > 0: draw t away from the ends where sigma vanishes.
    """
    m, _, sigma, _, n = interpolant.split(t, x0, x1, z)
    sp, sm = s_fn(t, m + sigma * n), s_fn(t, m - sigma * n)
    return 0.5 * jnp.mean(_sq(sp) + _sq(sm) + 2 * _dot(n, sp - sm) / sigma.reshape(-1))


def loss_eta(eta_fn, interpolant, t, x0, x1, z):
    """Denoiser objective L_eta = E[ |eta(t, x_t)|^2 - 2 n . eta(t, x_t) ] (Sec. 2.3, eta_z = E[n | x_t]).

    The score follows as s = -eta / sigma.
    """
    m, _, sigma, _, n = interpolant.split(t, x0, x1, z)
    e = eta_fn(t, m + sigma * n)
    return jnp.mean(_sq(e) - 2 * _dot(n, e))


def loss_v(v_fn, interpolant, t, x0, x1, z):
    """L_v = E[ |v(t, x_t)|^2 - 2 d_t I . v(t, x_t) ] (Sec. 2.3); then b = v - gamma dgamma s."""
    m, dm, sigma, _, n = interpolant.split(t, x0, x1, z)
    v = v_fn(t, m + sigma * n)
    return jnp.mean(_sq(v) - 2 * _dot(dm, v))
