"""Baseline samplers in the same conventions as the DPM-Solvers (eps_fn(x, t), schedules, grids).

  * :func:`euler_ode`       Euler on the probability-flow ODE in t (Eq. (2.4) with the noise predictor):
                            dx/dt = f(t) x + g^2(t) / (2 sigma_t) eps(x, t).
  * :func:`euler_maruyama`  Euler-Maruyama on the reverse SDE (Eq. (2.3)):
                            dx = [f(t) x + g^2(t) / sigma_t eps(x, t)] dt + g(t) dw_bar; the last step adds no noise.
  * :func:`reference_ode`   an accurate solution of the diffusion ODE in lambda with diffrax Tsit5 at tight
                            tolerance: dx/dlambda = sigma_lambda^2 x - sigma_lambda eps(x, t(lambda)),
                            which follows from Eq. (3.4) (d(x/alpha)/dlambda = -e^{-lambda} eps and
                            d log alpha / dlambda = sigma^2). It shares no code with the exponential integrators.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def euler_ode(eps_fn, schedule, x, grid, num_steps=None):
    """Euler steps on the probability-flow ODE in t along ``grid`` [N+1] (decreasing). NFE = N.

    ``num_steps`` (may be traced, <= N) runs only the first steps of a padded grid.
    """
    grid = jnp.asarray(grid, x.dtype)
    n = grid.shape[0] - 1 if num_steps is None else num_steps

    def body(i, x):
        s, t = grid[i], grid[i + 1]
        f, g2 = schedule.f_g2(s)
        drift = f * x + g2 / (2.0 * schedule.sigma(s)) * eps_fn(x, s)
        return x + (t - s) * drift

    return jax.lax.fori_loop(0, n, body, x)


def euler_maruyama(eps_fn, schedule, x, grid, key, num_steps=None):
    """Euler-Maruyama on the reverse-time SDE along ``grid`` [N+1]; no noise on the final step. NFE = N."""
    grid = jnp.asarray(grid, x.dtype)
    n = grid.shape[0] - 1 if num_steps is None else num_steps

    def body(i, x):
        s, t = grid[i], grid[i + 1]
        f, g2 = schedule.f_g2(s)
        dt = t - s                                                        # negative
        drift = f * x + g2 / schedule.sigma(s) * eps_fn(x, s)
        z = jax.random.normal(jax.random.fold_in(key, i), x.shape, x.dtype)
        noise = jnp.where(i < n - 1, jnp.sqrt(g2 * (-dt)), 0.0) * z
        return x + dt * drift + noise

    return jax.lax.fori_loop(0, n, body, x)


def ode_rhs_lambda(eps_fn, schedule):
    """The diffusion ODE in lambda: dx/dlambda = sigma^2 x - sigma eps(x, t(lambda)), sigma^2 = sigmoid(-2 lambda)."""
    def rhs(lam, x, args):
        sig2 = jax.nn.sigmoid(-2.0 * lam)
        t = schedule.inverse_lambda(lam)
        return sig2 * x - jnp.sqrt(sig2) * eps_fn(x, t)
    return rhs


def reference_ode(eps_fn, schedule, x, t_T, t_0, *, rtol=1e-9, atol=1e-9, max_steps=100_000):
    """Solves the diffusion ODE from t_T to t_0 with diffrax Tsit5 + PID step control, in lambda.

    Use float64 inputs (inside ``jax.enable_x64(True)``) for a reference accurate to ~rtol.
    Returns (x_0, nfe) with nfe = 6 per attempted step (Tsit5 is FSAL).
    """
    import diffrax
    dtype = x.dtype
    lam_T = schedule.lambda_(jnp.asarray(t_T, dtype))
    lam_0 = schedule.lambda_(jnp.asarray(t_0, dtype))
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(ode_rhs_lambda(eps_fn, schedule)), diffrax.Tsit5(), t0=lam_T, t1=lam_0,
        dt0=(lam_0 - lam_T) / 100.0, y0=x,
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol), max_steps=max_steps,
        saveat=diffrax.SaveAt(t1=True))
    return sol.ys[-1], 6 * sol.stats["num_steps"]
