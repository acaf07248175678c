"""The generalised softmax: the proximal operator of f(q) = -H(q) - ||q||^2/2 on the simplex.

Mean-field inference in the monotone DBM is damped forward-backward splitting (Sec. 4 of the paper),

    q <- prox^alpha_f((1 - alpha) q + alpha (W q + b)),                      (FB iteration)

with f the negative entropy minus half the squared norm, restricted to the probability simplex of
each categorical unit. The prox solves, per unit (one simplex of n categories),

    prox^alpha_f(y) = argmin_{z in simplex} 1/2 ||z - y||^2 + alpha (sum_k z_k log z_k - 1/2 ||z||^2).

Stationarity gives alpha log z_k + (1 - alpha) z_k = y_k + nu - alpha for a multiplier nu with
sum_k z_k = 1, i.e. z_k = phi(y_k + nu) with phi the inverse of u -> alpha log z + (1 - alpha) z
(a Lambert-W function). At alpha = 1 this is exactly softmax(y). For alpha < 1 the multiplier is
found by Newton's method on the scalar equation sum_k phi(y_k + nu) = 1 (convex and increasing in
nu, started to the right of the root, so Newton converges monotonically), and log z_k for a given
argument by Halley's method on alpha x + (1 - alpha) e^x = c.

Derivative (implicit function theorem): with h_k = z_k / (alpha + (1 - alpha) z_k),
    d prox = diag(h) - h h^T / sum(h),
which is softmax's Jacobian diag(z) - z z^T at alpha = 1. It is supplied as a custom JVP, so
forward and reverse differentiation never unroll the Newton loops.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp


def _log_phi(c, alpha, x, iters: int):
    """Halley iterations for x = log z solving alpha x + (1 - alpha) e^x = c (elementwise)."""
    def body(_, x):
        e = (1.0 - alpha) * jnp.exp(x)
        g = alpha * x + e - c          # convex, increasing in x
        dg = alpha + e
        ddg = e
        return x - 2.0 * g * dg / (2.0 * dg * dg - g * ddg)
    return jax.lax.fori_loop(0, iters, body, x)


def _initial_log_phi(c, alpha):
    """A start for Halley: c/alpha when z is tiny, log(c/(1-alpha)) when the e^x term dominates."""
    big = jnp.log(jnp.maximum(c, 1e-3) / (1.0 - alpha))
    return jnp.where(c / alpha < big, c / alpha, big)


def _gen_softmax_primal(y, alpha: float, newton_iters: int, halley_iters: int):
    """prox^alpha_f(y) over the last axis; y [..., n] -> (z [..., n], h [..., n])."""
    nu = 1.0 - jnp.max(y, axis=-1, keepdims=True)       # the largest entry has z = 1: sum z >= 1
    c = y + nu - alpha
    x = _log_phi(c, alpha, _initial_log_phi(c, alpha), 4 * halley_iters)

    def newton(_, carry):
        nu, x = carry
        z = jnp.exp(x)
        h = z / (alpha + (1.0 - alpha) * z)             # d z_k / d nu
        nu = nu - (jnp.sum(z, -1, keepdims=True) - 1.0) / jnp.sum(h, -1, keepdims=True)
        x = _log_phi(y + nu - alpha, alpha, x, halley_iters)   # warm start: x decreases monotonically
        return nu, x

    nu, x = jax.lax.fori_loop(0, newton_iters, newton, (nu, x))
    z = jnp.exp(x)
    return z / jnp.sum(z, -1, keepdims=True), z / (alpha + (1.0 - alpha) * z)


def generalized_softmax(y, alpha: float, newton_iters: int | None = None, halley_iters: int | None = None):
    """prox^alpha_f(y) of f = -H - ||.||^2/2 over the last axis of y [..., n]; softmax at alpha = 1.

    alpha is a static Python float in (0, 1]. Returns z [..., n] on the simplex. Iteration counts
    default to (8 Newton, 2 Halley per Newton step) in float32, which reaches float32 round-off for
    logits up to |y| ~ 30, and (20, 4) in float64.
    """
    if newton_iters is None:
        newton_iters = 20 if y.dtype == jnp.float64 else 8
    if halley_iters is None:
        halley_iters = 4 if y.dtype == jnp.float64 else 2
    return _generalized_softmax(y, float(alpha), int(newton_iters), int(halley_iters))


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2, 3))
def _generalized_softmax(y, alpha: float, newton_iters: int, halley_iters: int):
    if alpha >= 1.0:
        return jax.nn.softmax(y, axis=-1)
    return _gen_softmax_primal(y, alpha, newton_iters, halley_iters)[0]


@_generalized_softmax.defjvp
def _generalized_softmax_jvp(alpha, newton_iters, halley_iters, primals, tangents):
    (y,), (dy,) = primals, tangents
    if alpha >= 1.0:
        z = jax.nn.softmax(y, axis=-1)
        h = z
    else:
        z, h = _gen_softmax_primal(y, alpha, newton_iters, halley_iters)
    hd = jnp.sum(h * dy, -1, keepdims=True)
    dz = h * dy - h * hd / jnp.sum(h, -1, keepdims=True)
    return z, dz


def prox_objective(z, y, alpha: float):
    """The objective the prox minimises: 1/2||z - y||^2 + alpha (sum z log z - 1/2||z||^2), over the
    last axis; used by tests to check optimality."""
    zlogz = jnp.where(z > 0, z * jnp.log(jnp.where(z > 0, z, 1.0)), 0.0)
    return 0.5 * jnp.sum((z - y) ** 2, -1) + alpha * (jnp.sum(zlogz, -1) - 0.5 * jnp.sum(z * z, -1))
