"""Optimise-then-discretise: the continuous adjoint with adaptive steps, and the RMS seminorm.

Thesis Section 5.1.2 ("optimise-then-discretise") and Section 5.3.1 / Kidger, Chen, Lyons, "'Hey, that's
not an ODE': Faster ODE Adjoints via Seminorms" (ICML 2021), Eq. (4)-(5).

For dz/dt = f(t, z, theta) on [0, T] and a loss L(z(T)), the adjoint system solved backwards from T is

    dz/dt       = f(t, z, theta)                                   (state, re-solved backwards)
    da_z/dt     = - a_z^T  df/dz (t, z, theta)                     a_z(T) = dL/dz(T)
    da_theta/dt = - a_z^T  df/dtheta (t, z, theta)                 a_theta(T) = 0

and a_z(0) = dL/dz(0), a_theta(0) = dL/dtheta.  a_theta is an integral: it never feeds back into the
dynamics, so an adaptive step-size controller need not control its local error.  The seminorm
(:func:`state_rms_seminorm`) takes the RMS over the state channels (z, a_z) only; the full norm
(:func:`full_rms_norm`) over (z, a_z, a_theta).  Claim 2 counts the backward steps under each.

Written here: the augmented backward system, the two norms, and the step counting (diffrax's
BacksolveAdjoint does not report its backward solve's statistics).  diffrax supplies the solver
(Dopri5), the PID step-size controller and the reverse-time integration; tests check
:func:`backsolve_gradient` against ``diffrax.BacksolveAdjoint`` with ``diffrax.adjoint_rms_seminorm``.
"""
from __future__ import annotations

from typing import Callable

import diffrax
import jax
import jax.numpy as jnp


def _sum_sq_and_count(leaves):
    return sum(jnp.sum(x ** 2) for x in leaves), sum(x.size for x in leaves)


def weighted_rms_norm(y, param_weight) -> jnp.ndarray:
    """RMS over (z, a_z, a_theta) with the parameter channels a_theta weighted by ``param_weight``.

    Weight 1 is the full RMS norm, weight 0 the seminorm of Eq. (5). The weight may be a traced value, so
    one compiled backward solve serves both norms.
    """
    z, a_z, a_th = y
    sq_state, n_state = _sum_sq_and_count(jax.tree.leaves((z, a_z)))
    sq_param, n_param = _sum_sq_and_count(jax.tree.leaves(a_th))
    return jnp.sqrt((sq_state + param_weight * sq_param) / (n_state + param_weight * n_param))


def full_rms_norm(y) -> jnp.ndarray:
    """RMS over every channel of the augmented state (z, a_z, a_theta)."""
    return weighted_rms_norm(y, 1.0)


def state_rms_seminorm(y) -> jnp.ndarray:
    """RMS over the state channels (z, a_z) only, ignoring the parameter cotangent a_theta (Eq. (5))."""
    return weighted_rms_norm(y, 0.0)


NORM_WEIGHTS = {"full": 1.0, "seminorm": 0.0}


def adjoint_vector_field(f: Callable):
    """The augmented backward dynamics of the module docstring; f(t, z, theta) -> dz/dt."""
    def field(t, y, theta):
        z, a_z, _ = y
        fz, vjp = jax.vjp(lambda z_, th: f(t, z_, th), z, theta)
        gz, gth = vjp(a_z)
        return fz, jax.tree.map(jnp.negative, gz), jax.tree.map(jnp.negative, gth)
    return field


def forward_solve(f: Callable, theta, z0, t1: float, *, rtol: float, atol: float, max_steps: int = 100_000):
    """z(t1) of dz/dt = f(t, z, theta) from z(0) = z0 with Dopri5 + PID control (diffrax); and its step count."""
    sol = diffrax.diffeqsolve(diffrax.ODETerm(lambda t, z, th: f(t, z, th)), diffrax.Dopri5(), 0.0, t1, None,
                              z0, args=theta, saveat=diffrax.SaveAt(t1=True),
                              stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol, dtmin=None),
                              max_steps=max_steps, adjoint=diffrax.RecursiveCheckpointAdjoint())
    return sol.ys[-1], sol.stats["num_steps"]


def backsolve_gradient(f: Callable, loss: Callable, theta, z0, t1: float, *, norm, rtol: float,
                       atol: float, max_steps: int = 100_000):
    """Gradient of loss(z(t1)) w.r.t. (theta, z0) by the continuous adjoint, solved backwards adaptively.

    Args:
      f: f(t, z [d], theta) -> [d]; loss: z(t1) -> scalar; norm: "full" | "seminorm", or the weight of the
      parameter channels in :func:`weighted_rms_norm` (1 = full, 0 = seminorm; may be traced), the norm of
      the backward solve's error estimate (the forward solve always uses the full RMS norm over z).
    Returns: dict(grad_theta, grad_z0, backward_steps (attempted), backward_accepted, backward_rejected,
      forward_steps).
    """
    zT, fwd_steps = forward_solve(f, theta, z0, t1, rtol=rtol, atol=atol, max_steps=max_steps)
    a_T = jax.grad(loss)(zT)
    y1 = (zT, a_T, jax.tree.map(jnp.zeros_like, theta))
    weight = NORM_WEIGHTS[norm] if isinstance(norm, str) else norm
    controller = diffrax.PIDController(rtol=rtol, atol=atol, norm=lambda y: weighted_rms_norm(y, weight))
    sol = diffrax.diffeqsolve(diffrax.ODETerm(adjoint_vector_field(f)), diffrax.Dopri5(), t1, 0.0, None, y1,
                              args=theta, saveat=diffrax.SaveAt(t1=True), stepsize_controller=controller,
                              max_steps=max_steps, adjoint=diffrax.RecursiveCheckpointAdjoint())
    _, a_z0, a_th0 = jax.tree.map(lambda x: x[-1], sol.ys)
    return dict(grad_theta=a_th0, grad_z0=a_z0, backward_steps=sol.stats["num_steps"],
                backward_accepted=sol.stats["num_accepted_steps"],
                backward_rejected=sol.stats["num_rejected_steps"], forward_steps=fwd_steps)


def diffrax_backsolve_gradient(f: Callable, loss: Callable, theta, z0, t1: float, *, rtol: float, atol: float,
                               seminorm: bool = True):
    """The same gradient from ``diffrax.BacksolveAdjoint`` (independent implementation, used in tests)."""
    norm = diffrax.adjoint_rms_seminorm if seminorm else diffrax.rms_norm
    adjoint = diffrax.BacksolveAdjoint(stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol, norm=norm))

    def objective(theta, z0):
        sol = diffrax.diffeqsolve(diffrax.ODETerm(lambda t, z, th: f(t, z, th)), diffrax.Dopri5(), 0.0, t1, None,
                                  z0, args=theta, saveat=diffrax.SaveAt(t1=True),
                                  stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
                                  adjoint=adjoint, max_steps=100_000)
        return loss(sol.ys[-1])
    return jax.grad(objective, argnums=(0, 1))(theta, z0)


def dto_gradient(f: Callable, loss: Callable, theta, z0, t1: float, *, rtol: float, atol: float):
    """Discretise-then-optimise reference: autodiff through the adaptive forward solve."""
    def objective(theta, z0):
        return loss(forward_solve(f, theta, z0, t1, rtol=rtol, atol=atol)[0])
    return jax.grad(objective, argnums=(0, 1))(theta, z0)
