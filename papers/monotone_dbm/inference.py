"""Mean-field inference: damped forward-backward splitting, Anderson acceleration, implicit gradients.

The mean-field fixed point of a pairwise MRF over one-hot units is q = softmax(W q + b) per unit.
With I - W >= m I it is the unique zero of the strongly monotone operator (I - W) q - b + d f(q)
(f = -H - ||.||^2/2 plus the simplex indicator), found by forward-backward splitting

    q^{k+1} = prox^alpha_f((1 - alpha) q^k + alpha (W q^k + b))             (Sec. 4, FB iteration)

for any fixed alpha small enough. Observed units are clamped: before each application of W the
observed entries of the visible layer are replaced by their one-hot data (``mask`` = 1 there).

Anderson acceleration (Walker & Ni 2011, as in monotone DEQs) mixes the last ``memory`` iterates.
``fixed_point`` wraps the solve in a jax.custom_vjp: the backward pass solves the adjoint fixed
point u = g + (d F / d q)^T u at q* (again with Anderson) and returns (d F / d theta)^T u: implicit
differentiation, no unrolling.

The naive baseline is plain parallel mean-field q <- softmax(W q + b) (alpha = 1, no damping), which
for unconstrained W may oscillate or land on start-dependent fixed points.
"""
from __future__ import annotations

import functools
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from papers.monotone_dbm import monotone
from papers.monotone_dbm.prox import generalized_softmax


class SolverInfo(NamedTuple):
    iterations: jnp.ndarray        # int: number of f evaluations
    residual: jnp.ndarray          # max over the batch of ||f(x) - x|| / (1e-5 + ||f(x)||)


def anderson(f: Callable, x0, *, memory: int = 5, lam: float = 1e-4, max_iter: int = 50, tol: float = 1e-2,
             beta: float = 1.0):
    """Anderson acceleration of x = f(x) for x [B, d] (batch elements mixed independently).

    Stops when every batch element's relative residual ||f(x) - x|| / (1e-5 + ||f(x)||) < tol or after
    max_iter evaluations of f. Returns (f(x_k) [B, d], SolverInfo); the returned point is an image
    of f (for mean-field: on the simplex).
    """
    b, d = x0.shape
    m = memory

    def rel_res(x, fx):
        return jnp.max(jnp.linalg.norm(fx - x, axis=-1) / (1e-5 + jnp.linalg.norm(fx, axis=-1)))

    def mix(k, X, F):
        """The Anderson point from the last min(k, m) pairs (x_i, f(x_i))."""
        n_valid = jnp.minimum(k, m)
        valid = (jnp.arange(m) < n_valid).astype(x0.dtype)
        G = F - X
        GG = jnp.einsum("bid,bjd->bij", G, G) * valid[:, None] * valid[None, :]
        GG = GG + jnp.diag(lam * valid + (1.0 - valid))            # unfilled slots: identity, zero weight
        H = jnp.zeros((b, m + 1, m + 1), x0.dtype)
        H = H.at[:, 0, 1:].set(valid).at[:, 1:, 0].set(valid).at[:, 1:, 1:].set(GG)
        rhs = jnp.zeros((b, m + 1), x0.dtype).at[:, 0].set(1.0)
        a = jnp.linalg.solve(H, rhs[..., None])[:, 1:, 0]          # [B, m], sums to 1 on valid slots
        return beta * jnp.einsum("bi,bid->bd", a, F) + (1 - beta) * jnp.einsum("bi,bid->bd", a, X)

    def cond(s):
        k, _, _, res = s
        return (k < 2) | ((k < max_iter) & (res >= tol))

    def body(s):
        # k = 0, 1: the plain steps x0, f(x0); then Anderson. One loop, so f is traced (and compiled) once.
        k, X, F, _ = s
        x_new = jax.lax.cond(k < 2, lambda: jnp.where(k == 0, x0, F[:, 0]), lambda: mix(k, X, F))
        f_new = f(x_new)
        slot = k % m
        X = X.at[:, slot].set(x_new)
        F = F.at[:, slot].set(f_new)
        return k + 1, X, F, rel_res(x_new, f_new)

    zeros = jnp.zeros((b, m, d), x0.dtype)
    init = (jnp.asarray(0), zeros, zeros, jnp.asarray(jnp.inf, x0.dtype))
    k, X, F, res = jax.lax.while_loop(cond, body, init)
    last = (k - 1) % m
    return F[:, last], SolverInfo(k, res)


def picard(f: Callable, x0, *, max_iter: int = 50, tol: float = 1e-2):
    """Plain fixed-point iteration x <- f(x) with the same stopping rule as ``anderson``."""
    def cond(s):
        k, _, res = s
        return (k < max_iter) & (res >= tol)

    def body(s):
        k, x, _ = s
        fx = f(x)
        res = jnp.max(jnp.linalg.norm(fx - x, axis=-1) / (1e-5 + jnp.linalg.norm(fx, axis=-1)))
        return k + 1, fx, res

    k, x, res = jax.lax.while_loop(cond, body, (jnp.asarray(0), x0, jnp.asarray(jnp.inf, x0.dtype)))
    return x, SolverInfo(k, res)


# --------------------------------------------------------------------------- the mean-field operator

def clamp(q, data, mask):
    """Replaces the observed entries of the visible layer q[0] by the one-hot data.

    q: state tuple; data [B, H, W, 1, n] one-hot; mask [B, H, W, 1, 1] (1 = observed) or None."""
    if mask is None:
        return q
    return (q[0] * (1 - mask) + mask * data,) + tuple(q[1:])


def logits(W: Callable, biases, q, data=None, mask=None):
    """W q_clamped + b per layer: the mean-field pre-activations; q = softmax(logits) at the fixed point."""
    wq = W(clamp(q, data, mask))
    return tuple(y + b[None] for y, b in zip(wq, biases))


def fb_step(W: Callable, biases, q, alpha: float, data=None, mask=None):
    """One damped forward-backward step: prox^alpha_f((1 - alpha) q + alpha (W q + b)) (FB iteration)."""
    pre = logits(W, biases, q, data, mask)
    return tuple(generalized_softmax((1.0 - alpha) * x + alpha * y, alpha) for x, y in zip(q, pre))


def naive_step(W: Callable, biases, q, data=None, mask=None):
    """Naive parallel mean-field: q <- softmax(W q + b) for all units at once."""
    return tuple(jax.nn.softmax(y, axis=-1) for y in logits(W, biases, q, data, mask))


def uniform_state(arch: monotone.Architecture, batch: int, dtype=jnp.float32):
    """Every unit uniform over its categories (the solver's start)."""
    return tuple(jnp.full((batch,) + tuple(layer), 1.0 / layer[-1], dtype) for layer in arch.layers)


def random_state(arch: monotone.Architecture, key, batch: int, dtype=jnp.float32, temperature: float = 3.0):
    """Random points of the simplices: softmax of N(0, temperature^2) logits."""
    keys = jax.random.split(key, len(arch.layers))
    return tuple(jax.nn.softmax(temperature * jax.random.normal(k, (batch,) + tuple(layer), dtype), -1)
                 for k, layer in zip(keys, arch.layers))


# --------------------------------------------------------------------------- implicit differentiation

@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 4))
def fixed_point(step: Callable, params, context, z0, solver: tuple):
    """z* = step(params, context, z*) solved with Anderson from z0 (all [B, d] flat).

    step: pure (params, context, z [B, d]) -> [B, d]; context: non-differentiated arrays (data, mask);
    solver: hashable (memory, lam, max_iter, tol). Gradients w.r.t. params by the implicit function
    theorem (adjoint fixed point), w.r.t. context and z0 zero.
    """
    memory, lam, max_iter, tol = solver
    z, _ = anderson(lambda z: step(params, context, z), z0, memory=memory, lam=lam, max_iter=max_iter, tol=tol)
    return z


def _fixed_point_fwd(step, params, context, z0, solver):
    z = fixed_point(step, params, context, z0, solver)
    return z, (params, context, z, z0)


def _fixed_point_bwd(step, solver, res, g):
    params, context, z, z0 = res
    memory, lam, max_iter, tol = solver
    _, vjp_z = jax.vjp(lambda zz: step(params, context, zz), z)
    u, _ = anderson(lambda u: vjp_z(u)[0] + g, g, memory=memory, lam=lam, max_iter=max_iter, tol=tol)
    _, vjp_p = jax.vjp(lambda p: step(p, context, z), params)
    (gp,) = vjp_p(u)
    return gp, jax.tree.map(jnp.zeros_like, context), jnp.zeros_like(z0)


fixed_point.defvjp(_fixed_point_fwd, _fixed_point_bwd)
