"""Exact infinite-width limits of a linear 1-hidden-layer network f(xi) = xi W^1 W^2 (Sec. 8-9 of the paper).

Network (``AbcMLP`` with depth 1 and identity activation): input dim d, width n, output dim k,
W^1 [d, n] (columns u_i in R^d), W^2 [n, k] (rows w_i in R^k), base width n0, base stds sigma_in, sigma_out.

**muP-infinity.** In μP, u_i has O(1) entries and ``v_i := n w_i`` too; writing z_i = (u_i, v_i) in R^{d+k},
    f(xi) = (1/n) sum_i (xi . u_i) v_i = xi C_uv,            C = (1/n) sum_i z_i z_i^T  [(d+k) x (d+k)],
and an SGD step on a batch (Xi [b, d], chi = dL/df [b, k]) moves every coordinate by the same linear map
    u_i <- u_i - lr kappa_u Xi^T chi v_i,   v_i <- v_i - lr kappa_v chi^T Xi u_i,   i.e. z_i <- T z_i,
with kappa_u = 1/n0, kappa_v = n0 (derived from the μP multipliers and per-layer learning rates of
``parametrization``). Every z_i therefore stays in the span of the initial vectors (the paper's
"tracking coefficients" view): z_i(t) = A_t z_i(0) with one (d+k)x(d+k) matrix A_t for all i. Hence
    C_t = A_t C_0 A_t^T,      C <- T C T^T per step,
exactly, at any width. The finite network is this recursion started from its empirical C_0 (tested
to float precision); the μP-infinity limit is the same recursion started from
C_0 = E[z z^T] = diag(sigma_u^2 I_d, sigma_v^2 I_k) (law of large numbers; the error is O(n^{-1/2})).
First-order MAML keeps the structure: the outer step applies the query gradient taken at the adapted
coordinates T_in z_i to z_i, so z_i <- (I - G_q T_in) z_i.

**NTK-infinity / GP-infinity.** In NTK parametrisation the same network is, as n -> infinity, the linear model
f(xi) = xi M with M_0 ~ N(0, sigma_M^2) entrywise (the NNGP output prior) trained by gradient descent on M
with learning-rate factor kappa_ntk (the NTK, in closed form below). Training only the readout gives
the GP limit with kappa_gp. For linear networks both kernels are multiples of xi . xi':
    NNGP  K(xi, xi')     = n0 sigma_in^2 sigma_out^2 (xi . xi') I_k
    NTK   Theta(xi, xi') = n0 (sigma_in^2 + sigma_out^2) (xi . xi') I_k    (readout only: n0 sigma_in^2).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def _chi(logits, labels, k):
    """dL/dlogits of the mean softmax cross-entropy: (softmax - onehot) / b, shape [b, k]."""
    return (jax.nn.softmax(logits) - jax.nn.one_hot(labels, k, dtype=logits.dtype)) / logits.shape[0]


# ----------------------------------------------------------------------------- muP constants

def mup_limit_constants(base_width: int, in_dim: int, out_scale: float = 1.0) -> dict:
    """sigma_u, sigma_v (stds of u_i, v_i entries) and kappa_u, kappa_v for ``AbcMLP(parametrization='mup')``.

    u_i = column i of W^1 = r^{1/2} w^1 with std sigma_in r^{-1/2}  ->  std sigma_in = in_dim^{-1/2};
    v_i = n * row i of W^2 = n r^{-1/2} w^2 with std sigma_out r^{-1/2} -> std sigma_out n0 = out_scale sqrt(n0).
    SGD on w^l with learning rate lr (c = 0) moves W^l by -lr m_l^2 dL/dW^l, which gives kappa_u = 1/n0,
    kappa_v = n0.
    """
    return {"sigma_u": in_dim ** -0.5, "sigma_v": out_scale * base_width ** 0.5,
            "kappa_u": 1.0 / base_width, "kappa_v": float(base_width)}


def ntk_limit_constants(base_width: int, in_dim: int, out_scale: float = 1.0) -> dict:
    """sigma_M (NNGP output prior std per unit |xi|) and learning-rate factors of the NTK and GP limits."""
    s_in2, s_out2 = 1.0 / in_dim, out_scale ** 2 / base_width
    return {"sigma_M": (base_width * s_in2 * s_out2) ** 0.5,
            "kappa_ntk": base_width * (s_in2 + s_out2), "kappa_gp": base_width * s_in2}


def nngp_kernel(x1, x2, base_width: int, out_scale: float = 1.0):
    """NNGP kernel of the linear network in NTK parametrisation, [b1, b2] (per output; times I_k)."""
    c = ntk_limit_constants(base_width, x1.shape[-1], out_scale)
    return c["sigma_M"] ** 2 * x1 @ x2.T


def ntk_kernel(x1, x2, base_width: int, out_scale: float = 1.0, readout_only: bool = False):
    """NTK (learning-rate weighted, per output) of the linear network in NTK parametrisation, [b1, b2]."""
    c = ntk_limit_constants(base_width, x1.shape[-1], out_scale)
    return (c["kappa_gp"] if readout_only else c["kappa_ntk"]) * x1 @ x2.T


# ----------------------------------------------------------------------------- muP-infinity recursion

def mup_limit_init(d: int, k: int, sigma_u: float, sigma_v: float, dtype=jnp.float32):
    """C_0 = E[z z^T] = diag(sigma_u^2 I_d, sigma_v^2 I_k), [(d+k), (d+k)]."""
    return jnp.diag(jnp.concatenate([jnp.full((d,), sigma_u ** 2, dtype), jnp.full((k,), sigma_v ** 2, dtype)]))


def empirical_cov(w1, w2):
    """C = (1/n) Z^T Z of a finite network with effective weights W^1 [d, n], W^2 [n, k]; z_i = (u_i, n w_i)."""
    n = w1.shape[1]
    z = jnp.concatenate([w1.T, n * w2], axis=1)          # [n, d+k]
    return z.T @ z / n


def readout(C, d: int):
    """M = C_uv [d, k]: the function f(xi) = xi M of the limit (or finite) network."""
    return C[:d, d:]


def step_matrix(x, chi, lr, kappa_u, kappa_v):
    """T = I - lr [[0, kappa_u X^T chi], [kappa_v chi^T X, 0]], [(d+k), (d+k)]; x [b, d], chi [b, k]."""
    d, k = x.shape[1], chi.shape[1]
    g = x.T @ chi                                        # [d, k]
    top = jnp.concatenate([jnp.zeros((d, d), x.dtype), kappa_u * g], axis=1)
    bot = jnp.concatenate([kappa_v * g.T, jnp.zeros((k, k), x.dtype)], axis=1)
    return jnp.eye(d + k, dtype=x.dtype) - lr * jnp.concatenate([top, bot], axis=0)


def _apply_g(X, g, kappa_u, kappa_v):
    """[[0, kappa_u g], [kappa_v g^T, 0]] @ X without forming the matrix; X [(d+k), m], g [d, k]: O(d k m)."""
    d = g.shape[0]
    return jnp.concatenate([kappa_u * g @ X[d:], kappa_v * g.T @ X[:d]], axis=0)


def _apply_step(X, g, lr, kappa_u, kappa_v):
    """T @ X with T = I - lr [[0, kappa_u g], [kappa_v g^T, 0]] (the structured form of ``step_matrix``)."""
    return X - lr * _apply_g(X, g, kappa_u, kappa_v)


def _transport(C, g, lr, kappa_u, kappa_v):
    """T C T^T for symmetric C, in O((d+k) d k)."""
    TC = _apply_step(C, g, lr, kappa_u, kappa_v)
    return _apply_step(TC.T, g, lr, kappa_u, kappa_v).T


def _apply_g_onehot(X, rows, chi, kappa_u, kappa_v):
    """``_apply_g`` for g = E^T chi where E [b, d] holds the one-hot rows e_{rows_j}, without forming g [d, k].

    g X_v = E^T (chi X_v) scatter-adds the b rows of chi X_v into rows ``rows`` (repeats add up);
    g^T X_u = chi^T (E X_u) = chi^T X_u[rows]. O(b k m) instead of O(d k m); X [(d+k), m], chi [b, k].
    """
    d = X.shape[0] - chi.shape[1]
    top = jnp.zeros((d, X.shape[1]), X.dtype).at[rows].add(kappa_u * (chi @ X[d:]))
    return jnp.concatenate([top, kappa_v * (chi.T @ X[rows])], axis=0)


def _transport_onehot(C, rows, chi, lr, kappa_u, kappa_v):
    """T C T^T (as ``_transport``) for g = E^T chi with one-hot inputs E = one_hot(rows, d), in O((d+k) b k)."""
    TC = C - lr * _apply_g_onehot(C, rows, chi, kappa_u, kappa_v)
    return (TC.T - lr * _apply_g_onehot(TC.T, rows, chi, kappa_u, kappa_v)).T


def _grad_g(C, x, labels):
    d, k = x.shape[1], C.shape[0] - x.shape[1]
    logits = x @ readout(C, d)
    return x.T @ _chi(logits, labels, k), logits


def limit_sgd_step(C, x, labels, lr, kappa_u, kappa_v):
    """One SGD step of the muP-infinity limit on a batch: C <- T C T^T (T = ``step_matrix``). Returns C."""
    g, _ = _grad_g(C, x, labels)
    return _transport(C, g, lr, kappa_u, kappa_v)


def limit_adapt(C, x, labels, lr, steps: int, kappa_u, kappa_v):
    """Inner loop (``steps`` SGD steps on one support set). Returns adapted C and the product map A = T_s..T_1."""
    A = jnp.eye(C.shape[0], dtype=C.dtype)
    for _ in range(steps):
        g, _ = _grad_g(C, x, labels)
        C = _transport(C, g, lr, kappa_u, kappa_v)
        A = _apply_step(A, g, lr, kappa_u, kappa_v)
    return C, A


def limit_fomaml_step(C, tasks, inner_lr, inner_steps: int, outer_lr, kappa_u, kappa_v):
    """First-order MAML step of the muP-infinity limit on a meta-batch.

    tasks = (xs [B, s, d], ys [B, s], xq [B, q, d], yq [B, q]). For each task, A_tau adapts on the support set;
    the query gradient at the adapted point acts on the original coordinates:
    z <- (I - outer_lr/B sum_tau G_tau A_tau) z, with G_tau = [[0, kappa_u g_q], [kappa_v g_q^T, 0]] and
    g_q = Xq^T chi_q at the adapted function. Returns (C_new, mean query loss after adaptation).
    """
    def per_task(xs, ys, xq, yq):
        Ca, A = limit_adapt(C, xs, ys, inner_lr, inner_steps, kappa_u, kappa_v)
        g, logits = _grad_g(Ca, xq, yq)
        loss = jnp.mean(jax.nn.logsumexp(logits, -1) - jnp.take_along_axis(logits, yq[:, None], 1)[:, 0])
        return _apply_g(A, g, kappa_u, kappa_v), loss

    GA, losses = jax.vmap(per_task)(*tasks)
    T = jnp.eye(C.shape[0], dtype=C.dtype) - outer_lr * jnp.mean(GA, axis=0)
    return T @ C @ T.T, jnp.mean(losses)


def limit_fewshot_accuracy(C, tasks, inner_lr, inner_steps: int, kappa_u, kappa_v):
    """Mean query accuracy after adapting the limit on each task's support set; tasks as above."""
    d = tasks[0].shape[-1]

    def per_task(xs, ys, xq, yq):
        Ca = C
        for _ in range(inner_steps):
            Ca = limit_sgd_step(Ca, xs, ys, inner_lr, kappa_u, kappa_v)
        return jnp.mean(jnp.argmax(xq @ readout(Ca, d), -1) == yq)

    return jnp.mean(jax.vmap(per_task)(*tasks))


def limit_step_with_loss(C, x, loss_of_logits, lr, kappa_u, kappa_v):
    """One SGD step of the muP-infinity limit for any loss of the logits xi M (e.g. Word2Vec's negative sampling).

    chi = d loss / d logits [b, k] by autodiff; g = X^T chi; C <- T C T^T. Returns (C, loss).
    """
    d = x.shape[1]
    loss, chi = jax.value_and_grad(loss_of_logits)(x @ readout(C, d))
    return _transport(C, x.T @ chi, lr, kappa_u, kappa_v), loss


def limit_step_onehot(C, rows, in_dim: int, loss_of_logits, lr, kappa_u, kappa_v):
    """``limit_step_with_loss`` for one-hot inputs x_j = e_{rows_j} in R^in_dim (Word2Vec's centre words).

    The logits are the rows ``rows`` of M = C_uv, and g = X^T chi has at most b nonzero rows, so the step
    never forms g [d, k]: O((d+k) b k) per step instead of O((d+k) d k) (``_transport_onehot``); exact.
    Returns (C, loss).
    """
    loss, chi = jax.value_and_grad(loss_of_logits)(C[rows, in_dim:])
    return _transport_onehot(C, rows, chi, lr, kappa_u, kappa_v), loss
