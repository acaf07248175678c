"""The lazy baselines: the linearised (NTK) model trained by the same GD, and K0 kernel regression.

Linearising f~ around W0 and running GD with eta = eta0 N/alpha^2 on the centred loss gives, in function
space on the training set (c = 2 eta0 / P, K = model.ntk(W0, X, X) [P, P]):
    f_lin,train(t+1) = f_lin,train(t) - c K (f_lin,train(t) - y),   f_lin,train(0) = 0,
so f_lin,train(t) = (I - (I - cK)^t) y, and at any x, f_lin(x, t) = sum_mu K(x, x_mu) a_mu(t) with
a(t) = U diag((1 - (1 - c lambda)^t) / lambda) U^T y (K = U diag(lambda) U^T). t -> infinity gives the
ridgeless kernel regression with K0, a = K^{-1} y. The linearised predictor is itself quadratic in x,
f_lin(x) = v.x + x^T M x with u_i = sum_mu a_mu phi'(w0_i.x_mu) x_mu,
v = mean_i u_i,  M = (eps / 2N) sum_i (w0_i u_i^T + u_i w0_i^T),
so its population test loss has the same closed form as the network's (model.closed_form_test_loss).
"""
from __future__ import annotations

import jax.numpy as jnp

from papers.grokking_lazy_rich import model


def kernel_eigh(W0, X, eps):
    """Eigen-decomposition (lambda [P], U [P, P]) of the initial NTK on the training set."""
    K = model.ntk(W0, X, X, eps)
    lam, U = jnp.linalg.eigh(0.5 * (K + K.T))
    return lam, U


def linearised_coefficients(lam, U, y, c, t):
    """a(t) [P] of the linearised model after t GD steps (t = jnp.inf: kernel regression a = K^{-1} y).
    ``t`` may be traced, so one compiled function serves every t."""
    proj = U.T @ y
    t = jnp.asarray(t, lam.dtype)
    at_inf = jnp.isinf(t)
    finite = (1.0 - (1.0 - c * lam) ** jnp.where(at_inf, 0.0, t)) / lam
    gain = jnp.where(at_inf, 1.0 / lam, finite)
    return U @ (gain * proj)


def linearised_train_loss(lam, U, y, c, t):
    """Train MSE of the linearised model after t steps: mean(((I - cK)^t y)^2)."""
    res = U @ ((1.0 - c * lam) ** t * (U.T @ y))
    return jnp.mean(res * res)


def predictor_statistics(a, W0, X, eps):
    """(v [D], M [D, D]) of f(x) = sum_mu K0(x, x_mu) a_mu (see the module docstring)."""
    N = W0.shape[0]
    G = model.phi_prime(X @ W0.T, eps)            # [P, N]
    Uw = (G * a[:, None]).T @ X                   # [N, D]: u_i
    v = jnp.mean(Uw, axis=0)
    M = (eps / (2.0 * N)) * (W0.T @ Uw + Uw.T @ W0)
    return v, M


def predict(a, W0, X, Xq, eps):
    """f(xq) = sum_mu K0(xq, x_mu) a_mu for query points Xq [Q, D] -> [Q]."""
    return model.ntk(W0, Xq, X, eps) @ a


def linearised_test_loss(lam, U, y, c, t, W0, X, beta, eps, target_scale):
    """Closed-form population test loss of the linearised model after t steps (t = inf: K0 regression)."""
    v, M = predictor_statistics(linearised_coefficients(lam, U, y, c, t), W0, X, eps)
    return model.closed_form_test_loss(v, M, beta, target_scale)
