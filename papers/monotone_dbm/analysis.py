"""Claims 1 and 2: uniqueness of the monotone mean-field fixed point, and exact enumeration.

Everything here runs in float64 (callers wrap it in ``jax.enable_x64(True)``) on dense models of
categorical units: one layer of N units with K categories, W = S^{1/2}(blkdiag(A^T A) - A^T A)S^{1/2}
from a random square A (``monotone.dense_architecture``).

Baselines, measured in the same run:
  * naive parallel mean-field q <- softmax(W q + b) on the *same* A without the monotone rescaling
    (W = blkdiag(A^T A) - A^T A, not monotone), and on a random unconstrained RBM (bipartite W);
  * for the enumerable model, restarts of naive parallel and of sequential (coordinate) mean-field.
"""
from __future__ import annotations

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np

from papers.monotone_dbm import inference, monotone


# --------------------------------------------------------------------------- dense models

@functools.partial(jax.jit, static_argnums=(1, 2))
def dense_model(key, num_units: int, num_categories: int, weight_scale: float, bias_scale: float, m: float,
                monotone_=True):
    """(W [d, d], b [d]) of a dense DBM from a random A (entries N(0, weight_scale^2 / d)).

    ``monotone_`` (a traced bool: one compiled program serves both) selects the monotone rescaling
    S^{1/2}; without it S = I, i.e. W = blkdiag(A^T A) - A^T A, as ``monotone.coupling(..., False)``."""
    arch = monotone.dense_architecture(num_units, num_categories)
    params = monotone.init_params(arch, key, scale=weight_scale, bias_scale=bias_scale, dtype=jnp.float64)
    cp = monotone.coupling(arch, params, m, True)
    cp["roots"] = [jnp.where(monotone_, r, jnp.ones_like(r)) for r in cp["roots"]]
    W = monotone.dense_matrix(lambda q: monotone.apply_W(arch, cp, q), arch, jnp.float64)
    return W, params["biases"][0].reshape(-1)


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def rbm_model(key, visible: int, hidden: int, num_categories: int, scale: float, bias_scale: float):
    """(W [d, d], b [d]) of an unconstrained RBM: W = [[0, V], [V^T, 0]], V ~ N(0, scale^2 / (hidden K))."""
    kv, kb = jax.random.split(key)
    dv, dh = visible * num_categories, hidden * num_categories
    V = scale / np.sqrt(dh) * jax.random.normal(kv, (dv, dh), jnp.float64)
    W = jnp.zeros((dv + dh, dv + dh), jnp.float64).at[:dv, dv:].set(V).at[dv:, :dv].set(V.T)
    return W, bias_scale * jax.random.normal(kb, (dv + dh,), jnp.float64)


def _units(q, k):
    return q.reshape(q.shape[:-1] + (-1, k))


def softmax_units(x, k: int):
    """Per-unit softmax of x [..., d] with units of k contiguous entries."""
    return jax.nn.softmax(_units(x, k), -1).reshape(x.shape)


@functools.partial(jax.jit, static_argnums=(3,))
def mf_residual(W, b, q, k: int):
    """max |q - softmax(W q + b)| over entries (and batch): the mean-field equations' violation."""
    return jnp.max(jnp.abs(q - softmax_units(q @ W.T + b, k)))


@functools.partial(jax.jit, static_argnums=(3, 4, 5, 6))
def fb_solve(W, b, q0, k: int, alpha: float, max_iter: int, tol: float):
    """Monotone mean-field: damped forward-backward splitting + Anderson from starts q0 [S, d]."""
    def f(q):
        return jax.vmap(lambda x: inference.generalized_softmax(_units(x, k), alpha).reshape(-1))(
            (1 - alpha) * q + alpha * (q @ W.T + b))
    return inference.anderson(f, q0, memory=5, lam=1e-10, max_iter=max_iter, tol=tol)


@functools.partial(jax.jit, static_argnums=(3, 4))
def naive_parallel(W, b, q0, k: int, iters: int):
    """Naive parallel mean-field: ``iters`` steps of q <- softmax(W q + b); returns the last 3 iterates."""
    def body(carry, _):
        q = softmax_units(carry @ W.T + b, k)
        return q, None
    q, _ = jax.lax.scan(body, q0, None, length=iters - 2)
    q1 = softmax_units(q @ W.T + b, k)
    q2 = softmax_units(q1 @ W.T + b, k)
    return q, q1, q2


@functools.partial(jax.jit, static_argnums=(3, 4))
def naive_sequential(W, b, q0, k: int, sweeps: int):
    """Sequential (coordinate) mean-field: each unit in turn set to softmax(W_u q + b_u); q0 [S, d]."""
    n = W.shape[0] // k

    def unit(u, q):
        rows = jax.lax.dynamic_slice_in_dim(W, u * k, k, 0)             # [k, d]
        bu = jax.lax.dynamic_slice_in_dim(b, u * k, k, 0)
        new = jax.nn.softmax(q @ rows.T + bu, -1)                       # [S, k]
        return jax.lax.dynamic_update_slice_in_dim(q, new, u * k, 1)

    return jax.lax.fori_loop(0, sweeps * n, lambda t, q: unit(t % n, q), q0)


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4))
def random_starts(key, num: int, d: int, k: int, temperature: float = 3.0):
    return softmax_units(temperature * jax.random.normal(key, (num, d), jnp.float64), k)


def _spread(q):
    """max over starts of ||q_s - q_0||_inf."""
    q = np.asarray(q)
    return float(np.max(np.abs(q - q[:1])))


def uniqueness_experiment(cfg, key) -> dict:
    """Claim 1: 20 starts of the monotone solver vs naive mean-field on unconstrained models."""
    k_model, k_rbm, k_starts = jax.random.split(key, 3)
    n, k = cfg.num_units, cfg.num_categories
    out = {}
    W, b = dense_model(k_model, n, k, cfg.weight_scale, cfg.bias_scale, cfg.m, True)
    eig = np.linalg.eigvalsh(np.eye(W.shape[0]) - np.asarray(W))
    q0 = random_starts(k_starts, cfg.num_starts, n * k, k)
    q, info = fb_solve(W, b, q0, k, cfg.alpha, cfg.max_iter, cfg.tol)
    out["monotone"] = dict(spread=_spread(q), mf_residual=float(mf_residual(W, b, q, k)),
                           iterations=int(info.iterations), min_eig_I_minus_W=float(eig.min()),
                           max_eig_W=float(np.linalg.eigvalsh(np.asarray(W)).max()),
                           norm_W=float(np.abs(np.linalg.eigvalsh(np.asarray(W))).max()))
    # naive parallel mean-field on the same (monotone) model, for reference
    out["monotone_naive"] = _naive_summary(W, b, q0, k, cfg.naive_iters)

    Wu, bu = dense_model(k_model, n, k, cfg.weight_scale, cfg.bias_scale, cfg.m, False)
    out["unconstrained"] = _naive_summary(Wu, bu, q0, k, cfg.naive_iters)
    out["unconstrained"]["min_eig_I_minus_W"] = float(np.linalg.eigvalsh(np.eye(Wu.shape[0]) - np.asarray(Wu)).min())

    Wr, br = rbm_model(k_rbm, cfg.rbm_visible, cfg.rbm_hidden, k, cfg.rbm_scale, cfg.bias_scale)
    qr0 = random_starts(jax.random.fold_in(k_starts, 1), cfg.num_starts, Wr.shape[0], k)
    out["rbm"] = _naive_summary(Wr, br, qr0, k, cfg.naive_iters)
    return out


def _naive_summary(W, b, q0, k, iters) -> dict:
    q, q1, q2 = naive_parallel(W, b, q0, k, iters)
    return dict(spread=_spread(q2), mf_residual=float(mf_residual(W, b, q2, k)),
                step_change=float(jnp.max(jnp.abs(q2 - q1))), two_step_change=float(jnp.max(jnp.abs(q2 - q))))


def naive_fails(summary: dict, tol: float = 1e-3) -> bool:
    """Naive mean-field failed: it did not converge (oscillates) or converged to start-dependent points."""
    return summary["mf_residual"] > tol or summary["spread"] > tol


# --------------------------------------------------------------------------- exact enumeration

def all_states(num_units: int, k: int) -> jnp.ndarray:
    """All k^num_units one-hot configurations, [k^N, N k] float64."""
    idx = np.array(list(itertools.product(range(k), repeat=num_units)))
    return jnp.asarray(np.eye(k)[idx].reshape(len(idx), -1))


@functools.partial(jax.jit, static_argnums=(2, 3))
def exact_marginals(W, b, num_units: int, k: int):
    """(marginals [N k], log Z) of p(x) ~ exp(x^T W x / 2 + b^T x) by enumeration (W hollow)."""
    X = all_states(num_units, k)
    energy = 0.5 * jnp.einsum("sd,de,se->s", X, W, X) + X @ b
    log_z = jax.scipy.special.logsumexp(energy)
    p = jnp.exp(energy - log_z)
    return p @ X, log_z


@jax.jit
def free_energy(W, b, q):
    """Mean-field free energy F(q) = -q^T W q / 2 - b^T q + sum q log q; KL(q || p) = F(q) + log Z."""
    qlogq = jnp.where(q > 0, q * jnp.log(jnp.where(q > 0, q, 1.0)), 0.0)
    return -0.5 * jnp.einsum("...d,de,...e->...", q, W, q) - q @ b + jnp.sum(qlogq, -1)


@functools.partial(jax.jit, static_argnums=(2,))
def marginal_kl(p, q, k: int):
    """sum over units of KL(p_u || q_u) for marginals [..., N k]."""
    p, q = _units(p, k), _units(q, k)
    return jnp.sum(p * (jnp.log(jnp.maximum(p, 1e-300)) - jnp.log(jnp.maximum(q, 1e-300))), (-2, -1))


def enumeration_experiment(cfg, key) -> dict:
    """Claim 2: monotone fixed point vs exact marginals and vs many naive mean-field restarts."""
    k_model, k_starts = jax.random.split(key)
    n, k = cfg.num_units, cfg.num_categories
    W, b = dense_model(k_model, n, k, cfg.weight_scale, cfg.bias_scale, cfg.m, True)
    p, log_z = exact_marginals(W, b, n, k)
    q0 = jnp.full((1, n * k), 1.0 / k)
    q, info = fb_solve(W, b, q0, k, cfg.alpha, cfg.max_iter, cfg.tol)
    q = q[0]
    starts = random_starts(k_starts, cfg.num_restarts, n * k, k)
    _, _, qp = naive_parallel(W, b, starts, k, cfg.naive_iters)
    qs = naive_sequential(W, b, starts, k, cfg.sequential_sweeps)
    restarts = jnp.concatenate([qp, qs])
    kl_var = np.asarray(free_energy(W, b, restarts) + log_z)
    kl_marg = np.asarray(marginal_kl(p, restarts, k))
    res = np.asarray(jax.vmap(lambda x: mf_residual(W, b, x[None], k))(restarts))
    best = int(np.argmin(kl_var))
    return dict(
        mf_residual=float(mf_residual(W, b, q[None], k)), iterations=int(info.iterations),
        kl_var=float(free_energy(W, b, q) + log_z), kl_marginals=float(marginal_kl(p, q, k)),
        max_marginal_error=float(jnp.max(jnp.abs(p - q))),
        restarts_best_kl_var=float(kl_var[best]), restarts_kl_marginals_at_best=float(kl_marg[best]),
        restarts_best_kl_marginals=float(kl_marg.min()),
        restarts_parallel_converged=int(np.sum(res[:len(qp)] < 1e-6)),
        restarts_sequential_converged=int(np.sum(res[len(qp):] < 1e-6)),
        num_restarts=int(len(restarts)), num_states=int(k ** n),
        min_eig_I_minus_W=float(np.linalg.eigvalsh(np.eye(W.shape[0]) - np.asarray(W)).min()),
        max_abs_W=float(jnp.max(jnp.abs(W))))
