"""Generative dynamics: probability-flow ODE, forward/backward SDEs with any eps >= 0, and the
likelihood by the ODE's divergence integral.

Fields are ``f(t, x)`` with scalar t and x [n, d]. Time grids are uniform with ``num_steps`` steps.
  ODE:            dX/dt = b(t, X)
  forward SDE:    dX = (b + eps s)(t, X) dt + sqrt(2 eps) dW,   t: 0 -> 1
  backward SDE:   dX = (b - eps s)(t, X) dt + sqrt(2 eps) dW^B,  t: 1 -> 0
  likelihood:     log rho1(x) = log rho0(X_0) - int_0^1 div b(t, X_t) dt,  X_1 = x
Integrators: Heun (2nd order) for the ODE; the stochastic Heun predictor-corrector for the SDEs
(Euler-Maruyama with ``method='euler'``). Both use two drift evaluations per step.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def _grid(num_steps, forward, dtype):
    ts = jnp.linspace(0.0, 1.0, num_steps + 1, dtype=dtype)
    return ts if forward else ts[::-1]


def ode_sample(b, x, num_steps: int, forward: bool = True):
    """Heun integration of dX/dt = b(t, X) from t=0 to 1 (or 1 to 0 when not forward). x: [n, d]."""
    ts = _grid(num_steps, forward, x.dtype)

    def step(x, k):
        t0, t1 = ts[k], ts[k + 1]
        h = t1 - t0
        k1 = b(t0, x)
        k2 = b(t1, x + h * k1)
        return x + 0.5 * h * (k1 + k2), None

    return jax.lax.scan(step, x, jnp.arange(num_steps))[0]


def sde_sample(b, s, x, eps, key, num_steps: int, forward: bool = True, method: str = "heun"):
    """Integrates the forward (t: 0->1, drift b + eps s) or backward (t: 1->0, drift b - eps s) SDE.

    eps: scalar >= 0 (eps = 0 gives the ODE with the same integrator). x: [n, d]; key: PRNG key.
    """
    ts = _grid(num_steps, forward, x.dtype)
    sign = 1.0 if forward else -1.0
    drift = lambda t, y: b(t, y) + sign * eps * s(t, y)
    if method not in ("heun", "euler"):
        raise ValueError(f"unknown SDE method {method!r}")

    def step(x, k):
        t0, t1 = ts[k], ts[k + 1]
        h = t1 - t0                                  # negative when going backward
        noise = jnp.sqrt(2 * eps * jnp.abs(h)) * jax.random.normal(jax.random.fold_in(key, k), x.shape, x.dtype)
        k1 = drift(t0, x)
        pred = x + h * k1 + noise
        if method == "euler":
            return pred, None
        return x + 0.5 * h * (k1 + drift(t1, pred)) + noise, None

    return jax.lax.scan(step, x, jnp.arange(num_steps))[0]


def divergence(f, t, x):
    """Exact divergence of f(t, .) at each row of x [n, d] (trace of the Jacobian), [n]."""
    def single(xi):
        return jnp.trace(jax.jacfwd(lambda y: f(t, y[None])[0])(xi))
    return jax.vmap(single)(x)


def ode_log_likelihood(b, log_rho0, x, num_steps: int):
    """log rho1_hat(x) of the flow of b: integrate (X, l) back from t=1 to 0 with
    dX/dt = b, dl/dt = div b; then log rho1(x) = log rho0(X_0) + l(0) (l(1) = 0). x: [n, d] -> [n]."""
    ts = _grid(num_steps, False, x.dtype)

    def rhs(t, y):
        return b(t, y[0]), divergence(b, t, y[0])

    def step(y, k):
        t0, t1 = ts[k], ts[k + 1]
        h = t1 - t0
        k1 = rhs(t0, y)
        k2 = rhs(t1, jax.tree.map(lambda a, da: a + h * da, y, k1))
        return jax.tree.map(lambda a, d1, d2: a + 0.5 * h * (d1 + d2), y, k1, k2), None

    (x0, ell), _ = jax.lax.scan(step, (x, jnp.zeros(x.shape[0], x.dtype)), jnp.arange(num_steps))
    return log_rho0(x0) + ell
