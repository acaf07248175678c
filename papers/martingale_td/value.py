"""Parametric value functions J^theta(t, x) that satisfy the terminal condition J^theta(T, .) = h exactly.

* Linear: J^theta(t, x) = h(x) + theta . phi(t, x), phi_{k,j}(t, x) = tau P_k(2 tau / T - 1) * e_j(x),
  tau = T - t, P_k the Legendre polynomials, e_j(x) in {((x - c)/s)^2, 1}. For the OU example the true
  J = A(t) x^2 + B(t) lies (up to the polynomial approximation of A, B in t) in this span.
* Neural (Flax MLP): J^theta(t, x) = h(x) + tau * MLP_theta(t / T, (x - c) / s).
Putting the terminal condition into the parametrisation is what lets the martingale orthogonality
conditions identify J (they are blind to adding a constant otherwise).
"""
from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from papers.martingale_td.sde import Problem


def legendre(u, degree: int, xp=jnp):
    """P_0..P_{degree-1} at u, [..., degree] (three-term recurrence).

    ``xp`` is jax.numpy or numpy: host-side callers (moments.py) pass numpy and get the same float64
    numbers without dispatching (and compiling) one small XLA program per operation.
    """
    ps = [xp.ones_like(u), u]
    for n in range(1, degree - 1):
        ps.append(((2 * n + 1) * u * ps[n] - n * ps[n - 1]) / (n + 1))
    return xp.stack(ps[:degree], axis=-1)


def time_basis(problem: Problem, t, time_degree: int, xp=jnp):
    """p(t) = (tau / T) P_k(2 tau / T - 1), k < time_degree, tau = T - t: [..., time_degree], zero at t = T."""
    horizon = problem.horizon
    tau = horizon - xp.asarray(t)
    return tau[..., None] / horizon * legendre(2 * tau / horizon - 1, time_degree, xp)


def state_basis(problem: Problem, x):
    """u^2 = ((x - c) / s)^2, the non-constant state feature, same shape as x."""
    return ((x - problem.centre) / problem.x_scale)**2


def features(problem: Problem, t, x, time_degree: int, xp=jnp):
    """phi(t, x) = kron(e(x), p(t)), e = (u^2, 1), [..., 2 * time_degree]: time polynomials (vanishing at T)
    times {((x-c)/s)^2, 1}. ``xp``: jax.numpy or numpy, as in ``legendre``."""
    pt = time_basis(problem, xp.asarray(t), time_degree, xp)                             # [..., K]
    xs = state_basis(problem, xp.asarray(x))
    pt = xp.broadcast_to(pt, xs.shape + pt.shape[-1:])
    return xp.concatenate([pt * xs[..., None], pt], axis=-1)


def linear_value(problem: Problem, theta, t, x, time_degree: int):
    """J^theta(t, x) = h(x) + theta . phi(t, x)."""
    return problem.terminal(x) + features(problem, t, x, time_degree) @ theta


class MLP(nn.Module):
    """tanh MLP R^2 -> R."""
    hidden: tuple[int, ...] = (32, 32)

    @nn.compact
    def __call__(self, z):
        for width in self.hidden:
            z = jnp.tanh(nn.Dense(width, param_dtype=z.dtype)(z))
        return nn.Dense(1, param_dtype=z.dtype)(z)[..., 0]


def neural_value(problem: Problem, module: MLP, params, t, x):
    """J^theta(t, x) = h(x) + (T - t) * MLP(t / T, (x - c) / s); t, x of the same shape."""
    z = jnp.stack([t / problem.horizon * jnp.ones_like(x), (x - problem.centre) / problem.x_scale], axis=-1)
    return problem.terminal(x) + (problem.horizon - t) * module.apply(params, z)


def init_mlp(key, hidden, dtype=jnp.float64):
    module = MLP(tuple(hidden))
    params = module.init(key, jnp.zeros((1, 2), dtype))
    return module, params


def num_linear_features(time_degree: int) -> int:
    return 2 * int(np.asarray(time_degree))
