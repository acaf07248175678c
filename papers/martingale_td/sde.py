"""Controlled diffusions under a fixed policy, their closed-form value functions, Euler–Maruyama paths.

Setting of the paper (Section 2): a state process dX_s = b(s, X_s) ds + sigma(s, X_s) dW_s on [0, T]
(the policy is already substituted into b and sigma), a running reward r(s, X_s) and a terminal
reward h(X_T). The value function of the policy is

    J(t, x) = E[ int_t^T r(s, X_s) ds + h(X_T) | X_t = x ],                           (value, no discount)

and J is the value function iff M_t = J(t, X_t) + int_0^t r(s, X_s) ds is a martingale with
J(T, .) = h (the paper's martingale characterisation of policy evaluation).

Two examples with an explicit J:
  * ``ou_problem``: linear feedback u = -k x on dX = (a X + u) dt + sigma dW gives an Ornstein–Uhlenbeck
    process dX = -kappa X dt + sigma dW; reward r = x^2, terminal h = q x^2. Then J(t, x) = A(t) x^2 + B(t)
    with the (Lyapunov/Riccati-type) ODEs A' = 2 kappa A - 1, B' = -sigma^2 A, A(T) = q, B(T) = 0.
  * ``mean_variance_problem``: the exploratory mean–variance portfolio of Wang & Zhou (2020), which the
    paper uses as its application: wealth under the Gaussian policy
    pi(.|t, x) = N(-(rho/sigma)(x - w), lambda/(2 sigma^2) e^{rho^2 (T - t)}). Its value (variance criterion
    plus lambda times entropy, to be minimised) is J = (x - w)^2 e^{-rho^2 (T-t)} - (lambda rho^2/4)(T-t)^2
    - (lambda/2) ln(pi lambda / sigma^2) (T - t) - (w - z)^2.
Shapes: t is a scalar or [...], x has the same shape (one-dimensional state).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable

import jax
import jax.numpy as jnp

Array = jax.Array


@dataclasses.dataclass(frozen=True)
class Problem:
    """A policy-evaluation problem: dynamics under the policy, rewards and the true value function."""
    name: str
    horizon: float
    drift: Callable[[Array, Array], Array]          # b(t, x)
    diffusion: Callable[[Array, Array], Array]      # sigma(t, x)
    reward: Callable[[Array, Array], Array]         # r(t, x)
    terminal: Callable[[Array], Array]              # h(x)
    value: Callable[[Array, Array], Array]          # J(t, x), closed form
    x0_mean: float
    x0_std: float
    x_scale: float                                  # a typical |x - centre|, to scale features
    centre: float                                   # features use (x - centre)^2


def ou_coefficients(t, kappa: float, sigma: float, q: float, horizon: float):
    """A(t), B(t) of J = A x^2 + B for the OU example (solutions of A' = 2 kappa A - 1, B' = -sigma^2 A)."""
    tau = horizon - t
    c = q - 1.0 / (2.0 * kappa)
    e = jnp.exp(-2.0 * kappa * tau)
    a = 1.0 / (2.0 * kappa) + c * e
    b = sigma**2 * (tau / (2.0 * kappa) + c * (1.0 - e) / (2.0 * kappa))
    return a, b


def ou_problem(kappa: float = 1.0, sigma: float = 1.0, q: float = 0.0, horizon: float = 1.0,
               x0_std: float = 1.0) -> Problem:
    """dX = -kappa X dt + sigma dW, r = x^2, h = q x^2, X_0 ~ N(0, x0_std^2)."""
    def value(t, x):
        a, b = ou_coefficients(t, kappa, sigma, q, horizon)
        return a * x**2 + b
    return Problem(
        name="ou", horizon=horizon,
        drift=lambda t, x: -kappa * x,
        diffusion=lambda t, x: sigma * jnp.ones_like(x),
        reward=lambda t, x: x**2,
        terminal=lambda x: q * x**2,
        value=value, x0_mean=0.0, x0_std=x0_std, x_scale=max(x0_std, sigma / math.sqrt(2 * kappa)), centre=0.0)


def mv_target_w(x0: float, z: float, rho: float, horizon: float) -> float:
    """Lagrange multiplier w of the exploratory MV problem for target mean z (Wang & Zhou 2020)."""
    e = math.exp(rho**2 * horizon)
    return (z * e - x0) / (e - 1.0)


def mean_variance_problem(rho: float = 0.8, sigma: float = 0.5, lam: float = 0.5, x0: float = 1.0,
                          z: float = 1.4, horizon: float = 1.0, x0_std: float = 0.25) -> Problem:
    """Exploratory MV wealth under the Gaussian policy (mean -(rho/sigma)(x-w), var lam/(2 sigma^2)e^{rho^2(T-t)}).

    Exploratory dynamics (Wang & Zhou 2020): dX = rho sigma m_t dt + sigma sqrt(m_t^2 + s_t^2) dW with
    m_t = -(rho/sigma)(X_t - w), s_t^2 the policy variance; reward r = -lam * entropy(pi_t) (to be minimised
    together with h(x) = (x - w)^2 - (w - z)^2).
    """
    w = mv_target_w(x0, z, rho, horizon)

    def policy_var(t):
        return lam / (2 * sigma**2) * jnp.exp(rho**2 * (horizon - t))

    def value(t, x):
        tau = horizon - t
        return ((x - w)**2 * jnp.exp(-rho**2 * tau) - lam * rho**2 / 4 * tau**2
                - lam / 2 * math.log(math.pi * lam / sigma**2) * tau - (w - z)**2)

    return Problem(
        name="mv", horizon=horizon,
        drift=lambda t, x: -rho**2 * (x - w),
        diffusion=lambda t, x: jnp.sqrt(rho**2 * (x - w)**2 + sigma**2 * policy_var(t)),
        reward=lambda t, x: -lam * 0.5 * jnp.log(2 * math.pi * math.e * policy_var(t)) * jnp.ones_like(x),
        terminal=lambda x: (x - w)**2 - (w - z)**2,
        value=value, x0_mean=x0, x0_std=x0_std, x_scale=abs(x0 - w), centre=w)


def make_problem(cfg) -> Problem:
    """The problem a config block names (``cfg.name`` in {'ou', 'mv'})."""
    if cfg.name == "ou":
        return ou_problem(cfg.kappa, cfg.sigma, cfg.q, cfg.horizon, cfg.x0_std)
    if cfg.name == "mv":
        return mean_variance_problem(cfg.rho, cfg.sigma, cfg.lam, cfg.x0, cfg.z, cfg.horizon, cfg.x0_std)
    raise ValueError(f"problem name must be 'ou' or 'mv', got {cfg.name!r}")


def brownian_increments(key: Array, n_paths: int, n_fine: int, horizon: float, dtype=jnp.float64) -> Array:
    """dW on the finest grid, [n_paths, n_fine], each N(0, T / n_fine)."""
    return jax.random.normal(key, (n_paths, n_fine), dtype) * math.sqrt(horizon / n_fine)


def coarsen(dw_fine: Array, stride: int) -> Array:
    """Brownian increments of the grid with ``stride`` fine steps per step: [P, n_fine] -> [P, n_fine/stride].

    Paths on all grids share one Brownian motion, so differences between grids are discretisation
    errors, not Monte Carlo noise.
    """
    p, n = dw_fine.shape
    if n % stride:
        raise ValueError(f"stride {stride} does not divide the {n} fine steps")
    return dw_fine.reshape(p, n // stride, stride).sum(-1)


def euler_maruyama(problem: Problem, x0: Array, dw: Array) -> tuple[Array, Array]:
    """Euler–Maruyama X_{i+1} = X_i + b(t_i, X_i) dt + sigma(t_i, X_i) dW_i, vectorised over paths.

    Args: x0 [P], dw [P, N] Brownian increments of the uniform grid t_i = i T / N.
    Returns: ts [N + 1], xs [P, N + 1].
    """
    n = dw.shape[1]
    dt = problem.horizon / n
    ts = jnp.arange(n + 1, dtype=dw.dtype) * dt

    def step(x, inputs):
        t, d = inputs
        x_next = x + problem.drift(t, x) * dt + problem.diffusion(t, x) * d
        return x_next, x_next

    _, xs = jax.lax.scan(step, x0, (ts[:-1], dw.T))
    return ts, jnp.concatenate([x0[None], xs], axis=0).T


def initial_states(problem: Problem, key: Array, n_paths: int, dtype=jnp.float64) -> Array:
    """X_0 ~ N(x0_mean, x0_std^2), [n_paths]."""
    return problem.x0_mean + problem.x0_std * jax.random.normal(key, (n_paths,), dtype)


def simulate(problem: Problem, key: Array, n_paths: int, n_fine: int, stride: int = 1):
    """Paths on the grid with n_fine / stride steps, from a Brownian motion on the n_fine grid."""
    k0, kw = jax.random.split(key)
    x0 = initial_states(problem, k0, n_paths)
    dw = coarsen(brownian_increments(kw, n_paths, n_fine, problem.horizon), stride)
    return euler_maruyama(problem, x0, dw)
