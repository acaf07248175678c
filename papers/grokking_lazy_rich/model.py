"""The polynomial-regression model of the paper (Sec. 2-3): network, GD step, sufficient statistics, NTK.

Notation (shapes in brackets):
  x ~ N(0, I/D) [D], beta ~ N(0, I) [D], target y(x) = s (beta.x)^2 with s = target_scale (1/2 in the paper).
  Network f(x) = alpha * mean_i phi(w_i . x) with phi(h) = h + eps h^2 / 2 and W [N, D] (readouts frozen to 1).
  Centred output f~(x) = f_W(x) - f_W0(x); loss L = mean_mu (f~(x_mu) - y_mu)^2 (Eq. 1, "centred loss").
  Full-batch GD with learning rate eta = eta0 * N / alpha^2, so alpha sets laziness: the function-space
  kernel is alpha-independent while the feature movement per step scales as 1/alpha.

Because phi is quadratic, f~(x) = v.x + x^T M x with the sufficient statistics (Sec. 3)
  v = (alpha/N) sum_i (w_i - w_i^0),   M = (alpha eps / 2N) sum_i (w_i w_i^T - w_i^0 w_i^0^T),
and the population test loss over x ~ N(0, I/D) is the closed form (Gaussian moments)
  E_x[(f~ - y)^2] = |v|^2/D + [ (tr(M - B))^2 + 2 ||M - B||_F^2 ] / D^2,   B = s beta beta^T.
Its three terms are the paper's "linear", "variance" (trace) and "alignment" error components.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def phi(h, eps):
    """Activation phi(h) = h + eps h^2 / 2 (elementwise)."""
    return h + 0.5 * eps * h * h


def phi_prime(h, eps):
    return 1.0 + eps * h


def make_task(key, dim: int, n_train: int, target_scale: float = 0.5, dtype=jnp.float64):
    """Gaussian inputs X [P, D] with covariance I/D, beta [D] ~ N(0, I), labels y [P] = s (X beta)^2."""
    k_beta, k_x = jax.random.split(key)
    beta = jax.random.normal(k_beta, (dim,), dtype)
    X = jax.random.normal(k_x, (n_train, dim), dtype) / jnp.sqrt(dim)
    return X, target(X, beta, target_scale), beta


def target(X, beta, target_scale):
    """y = s (beta . x)^2 for each row of X [P, D] -> [P]."""
    return target_scale * (X @ beta) ** 2


def init_weights(key, width: int, dim: int, dtype=jnp.float64):
    """First-layer weights W0 [N, D] with i.i.d. N(0, 1) entries."""
    return jax.random.normal(key, (width, dim), dtype)


def network(W, X, alpha, eps):
    """f(x) = alpha * mean_i phi(w_i . x): W [N, D], X [P, D] -> [P]."""
    return alpha * jnp.mean(phi(X @ W.T, eps), axis=1)


def centred_network(W, W0, X, alpha, eps):
    """f~(x) = f_W(x) - f_W0(x) [P] (the model the centred loss trains)."""
    return network(W, X, alpha, eps) - network(W0, X, alpha, eps)


def centred_loss(W, W0, X, y, alpha, eps):
    """L(W) = mean_mu (f~(x_mu) - y_mu)^2 (the paper's centred MSE)."""
    return jnp.mean((centred_network(W, W0, X, alpha, eps) - y) ** 2)


def learning_rate(eta0, width, alpha):
    """eta = eta0 N / alpha^2 (Sec. 2): O(1) function-space steps for every alpha."""
    return eta0 * width / alpha**2


def gd_step(W, W0, X, y, alpha, eps, eta0):
    """One full-batch GD step on the centred loss with the analytic gradient.

    dL/dw_i = (2 alpha / (P N)) sum_mu r_mu phi'(w_i.x_mu) x_mu, r = f~ - y; with eta = eta0 N/alpha^2
    the update is W <- W - (2 eta0 / (alpha P)) (phi'(H) * r)^T X. Returns (W_new [N, D], train loss at W).
    """
    P = X.shape[0]
    H = X @ W.T
    H0 = X @ W0.T
    r = alpha * jnp.mean(phi(H, eps) - phi(H0, eps), axis=1) - y
    W_new = W - (2.0 * eta0 / (alpha * P)) * (phi_prime(H, eps) * r[:, None]).T @ X
    return W_new, jnp.mean(r * r)


def sufficient_statistics(W, W0, alpha, eps):
    """(v [D], M [D, D]) with f~(x) = v.x + x^T M x (Sec. 3)."""
    N = W.shape[0]
    v = alpha * jnp.mean(W - W0, axis=0)
    M = (alpha * eps / (2.0 * N)) * (W.T @ W - W0.T @ W0)
    return v, M


def loss_components(v, M, beta, target_scale):
    """The three terms of the closed-form population test loss (x ~ N(0, I/D)).

    Returns dict: linear = |v|^2/D, variance = (tr(M - B))^2/D^2, alignment = 2||M - B||_F^2/D^2,
    with B = s beta beta^T. Their sum is E_x[(f~(x) - y(x))^2].
    """
    D = beta.shape[0]
    A = M - target_scale * jnp.outer(beta, beta)
    return {"linear": v @ v / D, "variance": jnp.trace(A) ** 2 / D**2, "alignment": 2.0 * jnp.sum(A * A) / D**2}


def closed_form_test_loss(v, M, beta, target_scale):
    """E_x[(v.x + x^T M x - s (beta.x)^2)^2] for x ~ N(0, I/D) (sum of :func:`loss_components`)."""
    c = loss_components(v, M, beta, target_scale)
    return c["linear"] + c["variance"] + c["alignment"]


def test_loss_of_weights(W, W0, beta, alpha, eps, target_scale):
    v, M = sufficient_statistics(W, W0, alpha, eps)
    return closed_form_test_loss(v, M, beta, target_scale)


def ntk(W, XA, XB, eps):
    """Empirical NTK in eta-normalised units, eta * sum_i grad f(xa) . grad f(xb) / eta0:

    K(xa, xb) = (1/N) sum_i phi'(w_i.xa) phi'(w_i.xb) (xa . xb)   [PA, PB]
    (alpha-independent because eta = eta0 N / alpha^2; the NTK of f itself is alpha^2/N^2 times N times this).
    """
    N = W.shape[0]
    GA = phi_prime(XA @ W.T, eps)
    GB = phi_prime(XB @ W.T, eps)
    return (XA @ XB.T) * (GA @ GB.T) / N


def kernel_alignment(K, y):
    """Centred kernel-target alignment (CKA-style) A = y_c^T K_c y_c / (||K_c||_F ||y_c||^2), as in the paper."""
    yc = y - jnp.mean(y)
    n = K.shape[0]
    C = jnp.eye(n, dtype=K.dtype) - 1.0 / n
    Kc = C @ K @ C
    return (yc @ Kc @ yc) / (jnp.linalg.norm(Kc) * (yc @ yc))


# ----------------------------------------------------------------------------- exact reduced GD dynamics
#
# With phi'(h) = 1 + eps h the GD update of the module docstring is
#   W <- W - c' [1 g^T + eps W G],   c' = 2 eta0 / (alpha P),  g = X^T r [D],  G = X^T diag(r) X [D, D],
# and the residual r depends on W only through (v, M). Hence W_t = W0 A_t + 1 b_t^T for all t, with
#   A <- A (I - c' eps G),   b <- (I - c' eps G) b - c' g,   A_0 = I, b_0 = 0,
# and (v, M) follow from (A, b) and the two initial moments m = mean_i w0_i, C = W0^T W0 / N. This is the
# same GD trajectory (unit test: equal to gd_step to round-off), at O(P D^2 + D^3) per step instead of
# O(P N D), independent of the width N.

def reduced_moments(W0):
    """(m [D], C [D, D]) = (mean_i w0_i, W0^T W0 / N): all the reduced dynamics needs from W0."""
    return jnp.mean(W0, axis=0), W0.T @ W0 / W0.shape[0]


def reduced_statistics(A, b, m, C, alpha, eps):
    """(v, M) of W = W0 A + 1 b^T: v = alpha ((A - I)^T m + b),
    M = (alpha eps / 2) (A^T C A + A^T m b^T + b m^T A + b b^T - C)."""
    v = alpha * ((A.T - jnp.eye(A.shape[0], dtype=A.dtype)) @ m + b)
    Am = A.T @ m
    M = 0.5 * alpha * eps * (A.T @ C @ A + jnp.outer(Am, b) + jnp.outer(b, Am) + jnp.outer(b, b) - C)
    return v, M


def quadratic_predict(v, M, X):
    """f~(x) = v.x + x^T M x for the rows of X [P, D] -> [P]."""
    return X @ v + jnp.sum((X @ M) * X, axis=1)


def reduced_gd_step(A, b, m, C, X, y, alpha, eps, eta0):
    """One full-batch GD step in the reduced coordinates (A [D, D], b [D]); returns (A, b, train loss at A, b)."""
    P = X.shape[0]
    v, M = reduced_statistics(A, b, m, C, alpha, eps)
    r = quadratic_predict(v, M, X) - y
    cp = 2.0 * eta0 / (alpha * P)
    g = X.T @ r
    G = (X * r[:, None]).T @ X
    return A - (cp * eps) * (A @ G), b - cp * (eps * (G @ b) + g), jnp.mean(r * r)


def weights_from_reduced(W0, A, b):
    """W = W0 A + 1 b^T [N, D]."""
    return W0 @ A + b[None, :]
