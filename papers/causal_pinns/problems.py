"""The benchmark problems of the paper, their PINN residuals and their reference solutions.

Allen-Cahn (Sec. 5.1):  u_t - 1e-4 u_xx + 5 u^3 - 5 u = 0,  x in [-1, 1] periodic, t in [0, 1],
                        u(0, x) = x^2 cos(pi x).
Kuramoto-Sivashinsky, regular regime (Sec. 5.3):  u_t + 5 u u_x + 0.5 u_xx + 0.005 u_xxxx = 0,
                        x in [-1, 1] periodic, t in [0, 1], u(0, x) = -sin(pi x).
Lorenz (Sec. 5.2):      x' = 10 (y - x), y' = x (28 - z) - y, z' = x y - 8/3 z,  (x, y, z)(0) = (1, 1, 1).

References: the PDEs with the spectral ETDRK4 solver of ``common.pde`` (float64), Lorenz with scipy's
DOP853 at rtol = atol = 1e-12.
"""
from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from scipy.integrate import solve_ivp

from common import pde
from papers.causal_pinns import networks


@dataclasses.dataclass(frozen=True)
class PDESpec:
    """A 1-D periodic evolution equation on [x_min, x_min + length) x [0, t_final]."""
    name: str              # "allen_cahn" | "kuramoto_sivashinsky"
    x_min: float = -1.0
    length: float = 2.0
    t_final: float = 1.0
    coeffs: tuple = ()     # AC: (nu, a); KS: (alpha, beta, gamma)


ALLEN_CAHN = PDESpec("allen_cahn", coeffs=(1e-4, 5.0))
KURAMOTO_SIVASHINSKY = PDESpec("kuramoto_sivashinsky", coeffs=(5.0, 0.5, 0.005))
LORENZ_PARAMS = (10.0, 28.0, 8.0 / 3.0)   # sigma, rho, beta


def spec_by_name(name: str) -> PDESpec:
    specs = {"allen_cahn": ALLEN_CAHN, "kuramoto_sivashinsky": KURAMOTO_SIVASHINSKY}
    if name not in specs:
        raise ValueError(f"unknown PDE {name!r}; valid: {sorted(specs)}")
    return specs[name]


def initial_condition(spec: PDESpec, x):
    """u(0, x) of the problem (works on numpy and jax arrays)."""
    xp = jnp if isinstance(x, jax.Array) else np
    if spec.name == "allen_cahn":
        return x ** 2 * xp.cos(np.pi * x)
    return -xp.sin(np.pi * x)


# ----------------------------------------------------------------------------------------------- references
def pde_reference(spec: PDESpec, num_x: int = 512, dt: float = 5e-4, num_t: int = 201) -> tuple[np.ndarray, ...]:
    """ETDRK4 reference: (t [num_t], x [num_x], u [num_t, num_x]) in float64."""
    steps = int(round(spec.t_final / dt))
    save_every = steps // (num_t - 1)
    if save_every * (num_t - 1) != steps:
        raise ValueError(f"t_final/dt={steps} steps is not a multiple of num_t-1={num_t - 1}")
    x = pde.grid(num_x, spec.length, spec.x_min)
    with jax.enable_x64(True):
        if spec.name == "allen_cahn":
            lin, nonlin = pde.allen_cahn_terms(num_x, spec.length, *spec.coeffs)
        else:
            lin, nonlin = pde.kuramoto_sivashinsky_terms(num_x, spec.length, *spec.coeffs)
        ts, us = jax.jit(lambda u0: pde.solve(u0, lin, nonlin, dt=dt, num_steps=steps, save_every=save_every))(
            jnp.asarray(initial_condition(spec, x), jnp.float64))
        return np.asarray(ts), x, np.asarray(us)


def lorenz_rhs(state, params=LORENZ_PARAMS):
    """Right-hand side f(s) of the Lorenz system; state [..., 3] (numpy or jax)."""
    sigma, rho, beta = params
    x, y, z = state[..., 0], state[..., 1], state[..., 2]
    xp = jnp if isinstance(state, jax.Array) else np
    return xp.stack([sigma * (y - x), x * (rho - z) - y, x * y - beta * z], axis=-1)


def lorenz_reference(t_eval: np.ndarray, state0=(1.0, 1.0, 1.0)) -> np.ndarray:
    """DOP853 solution of Lorenz at t_eval ([T]) -> [T, 3]."""
    sol = solve_ivp(lambda t, s: lorenz_rhs(s), (0.0, float(t_eval[-1])), np.asarray(state0, np.float64),
                    method="DOP853", t_eval=t_eval, rtol=1e-12, atol=1e-12)
    return sol.y.T


# ----------------------------------------------------------------------------------------------- PINN fields
def trig_interpolate(values: jax.Array, x_min: float, length: float, x: jax.Array) -> jax.Array:
    """The trigonometric interpolant of periodic grid values ([n] at x_min + length j / n) at scalar x."""
    n = values.shape[0]
    c = jnp.fft.rfft(values) / n
    k = jnp.arange(c.shape[0])
    scale = jnp.where((k == 0) | ((n % 2 == 0) & (k == n // 2)), 1.0, 2.0)
    phase = 2.0 * jnp.pi * k * (x - x_min) / length
    return jnp.sum(scale * (c.real * jnp.cos(phase) - c.imag * jnp.sin(phase)))


def pde_field(params, t, x, ic_values, ic_is_analytic, spec: PDESpec, num_modes: int, hard_ic: bool):
    """u_theta(t, x) (scalar) on the exact periodic embedding.

    hard_ic: u = u0(x) + t * NN(t, x) (the initial condition holds exactly); else u = NN(t, x).
    u0 is the analytic initial condition in the first window (static ic_is_analytic = True) and the trigonometric
    interpolant of ``ic_values`` (the previous window's prediction at its end) in later ones.
    """
    h = networks.periodic_embedding(t, x, spec.length, num_modes)
    out = networks.apply_mlp(params, h)[0]
    if not hard_ic:
        return out
    if ic_is_analytic:   # a Python bool: static, so the first window pays no interpolation cost
        u0 = initial_condition(spec, x)
    else:
        u0 = trig_interpolate(ic_values, spec.x_min, spec.length, x)
    return u0 + t * out


def _x_derivatives(u, t, x, order: int):
    """[u, u_x, ..., d^order u / dx^order] at (t, x) by nested forward-mode AD (each level keeps its primal)."""
    def level(k):
        if k == 0:
            return lambda y: (u(t, y),)
        inner = level(k - 1)
        def f(y):
            primal, tangent = jax.jvp(inner, (y,), (jnp.ones_like(y),))
            return primal + (tangent[-1],)
        return f
    return level(order)(x)


def pde_residual(u, spec: PDESpec):
    """r(t, x) of the equation for a scalar field u(t, x) (forward-mode AD, nested for u_xx / u_xxxx)."""
    def u_t(t, x):
        return jax.jvp(lambda s: u(s, x), (t,), (jnp.ones_like(t),))[1]

    if spec.name == "allen_cahn":
        nu, a = spec.coeffs

        def residual(t, x):
            v, _, v_xx = _x_derivatives(u, t, x, 2)
            return u_t(t, x) - nu * v_xx + a * v ** 3 - a * v
        return residual
    alpha, beta, gamma = spec.coeffs

    def residual(t, x):
        v, v_x, v_xx, _, v_xxxx = _x_derivatives(u, t, x, 4)
        return u_t(t, x) + alpha * v * v_x + beta * v_xx + gamma * v_xxxx
    return residual


def pde_slice_losses(residual, t_slices: jax.Array, x_points: jax.Array) -> jax.Array:
    """L_r(t_i) = mean_j r(t_i, x_j)^2: t_slices [N_t], x_points [N_x] -> [N_t]."""
    r = jax.vmap(jax.vmap(residual, (None, 0)), (0, None))(t_slices, x_points)
    return jnp.mean(r ** 2, axis=1)


def lorenz_state(params, t, state0, t_scale: float = 1.0, out_scale: float = 1.0):
    """s_theta(t) = s0 + t * out_scale * NN(t / t_scale) ([3]); t is the time since the window start.

    The hard initial condition is the paper's; t_scale = out_scale = 1 is the paper's parametrisation,
    other values only rescale the input and output of the network.
    """
    out = networks.apply_mlp(params, jnp.reshape(t / t_scale, (1,)))
    return state0 + t * out_scale * out


def lorenz_slice_losses(params, t_slices: jax.Array, state0: jax.Array, t_scale: float = 1.0,
                        out_scale: float = 1.0) -> jax.Array:
    """L_r(t_i) = |s'(t_i) - f(s(t_i))|^2 summed over the 3 components: t_slices [N_t] -> [N_t]."""
    def one(t):
        s, s_t = jax.jvp(lambda v: lorenz_state(params, v, state0, t_scale, out_scale), (t,), (jnp.ones_like(t),))
        return jnp.sum((s_t - lorenz_rhs(s)) ** 2)
    return jax.vmap(one)(t_slices)
