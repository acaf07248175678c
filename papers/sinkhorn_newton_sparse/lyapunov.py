"""The concave Lyapunov dual of entropic OT and the log-domain Sinkhorn step (paper Sec. 3).

Entropic OT (paper Eq. (1)):   min_P <C, P> + (1/eta) sum_ij P_ij log P_ij,  P 1 = r,  P^T 1 = c.
Its dual, the Lyapunov potential (paper Eq. (2)), for x in R^n, y in R^m:

    f(x, y) = -(1/eta) sum_ij exp(eta (-C_ij + x_i + y_j) - 1) + r^T x + c^T y,

is concave; its maximiser gives the optimal plan P_ij = exp(eta (-C_ij + x_i + y_j) - 1).
Sinkhorn is exact alternating maximisation of f over x, then y (paper Eq. (3)).

All functions are pure jnp code, dtype-agnostic; the solvers call them in float64.
Shapes: C [n, m], r [n], c [m], x [n], y [m].
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def log_plan(C, x, y, eta):
    """log P_ij = eta (-C_ij + x_i + y_j) - 1, [n, m] (paper Eq. (2), the plan of a dual point)."""
    return eta * (x[:, None] + y[None, :] - C) - 1.0


def plan(C, x, y, eta):
    """The transport plan P(x, y) = exp(log_plan), [n, m]."""
    return jnp.exp(log_plan(C, x, y, eta))


def potential(C, r, c, x, y, eta):
    """The Lyapunov potential f(x, y) of paper Eq. (2), a scalar (computed with a log-sum-exp)."""
    total_mass = jnp.exp(jax.nn.logsumexp(log_plan(C, x, y, eta)))
    return -total_mass / eta + r @ x + c @ y


def gradient(C, r, c, x, y, eta):
    """grad f = (r - P 1, c - P^T 1), the marginal residuals (paper Eq. (4)). Returns ([n], [m])."""
    P = plan(C, x, y, eta)
    return r - P.sum(1), c - P.sum(0)


def hessian(C, x, y, eta):
    """The dense Hessian of f, [n+m, n+m] (paper Eq. (4)):

        grad^2 f = -eta [[diag(P 1), P], [P^T, diag(P^T 1)]].

    Negative semidefinite with the null direction (1_n, -1_m). For tests and small problems only.
    """
    P = plan(C, x, y, eta)
    top = jnp.concatenate([jnp.diag(P.sum(1)), P], 1)
    bottom = jnp.concatenate([P.T, jnp.diag(P.sum(0))], 1)
    return -eta * jnp.concatenate([top, bottom], 0)


def marginal_error(C, r, c, x, y, eta):
    """The l1 marginal error ||P 1 - r||_1 + ||P^T 1 - c||_1 of a dual point (the paper's stopping measure)."""
    gx, gy = gradient(C, r, c, x, y, eta)
    return jnp.abs(gx).sum() + jnp.abs(gy).sum()


def row_lse(etaC, y, eta):
    """lse_i = log sum_j exp(eta (y_j - C_ij)), [n]; then (P 1)_i = exp(eta x_i - 1 + lse_i)."""
    return jax.nn.logsumexp(eta * y[None, :] - etaC, axis=1)


def col_lse(etaC, x, eta):
    """lse_j = log sum_i exp(eta (x_i - C_ij)), [m]; then (P^T 1)_j = exp(eta y_j - 1 + lse_j)."""
    return jax.nn.logsumexp(eta * x[:, None] - etaC, axis=0)


def sinkhorn_x_update(log_r, lse_rows, eta):
    """argmax_x f(x, y) given row lse (paper Eq. (3), first half): x_i = (log r_i + 1 - lse_i) / eta."""
    return (log_r + 1.0 - lse_rows) / eta


def sinkhorn_y_update(log_c, lse_cols, eta):
    """argmax_y f(x, y) given column lse (paper Eq. (3), second half): y_j = (log c_j + 1 - lse_j) / eta."""
    return (log_c + 1.0 - lse_cols) / eta


def sinkhorn_step(etaC, log_r, log_c, x, y, eta):
    """One full log-domain Sinkhorn step (Algorithm 1, lines 3-4): x-update, then y-update."""
    x = sinkhorn_x_update(log_r, row_lse(etaC, y, eta), eta)
    y = sinkhorn_y_update(log_c, col_lse(etaC, x, eta), eta)
    return x, y


def row_error_from_lse(r, x, lse_rows, eta):
    """||P 1 - r||_1 from the row lse. After a y-update the columns are exact, so this is the l1 error."""
    return jnp.abs(jnp.exp(eta * x - 1.0 + lse_rows) - r).sum()


def top_mass_fraction(P, k):
    """Mass held by the k largest entries of P over its total mass (approximate sparsity, paper Def. 1)."""
    top = jax.lax.top_k(P.ravel(), k)[0]
    return top.sum() / P.sum()
