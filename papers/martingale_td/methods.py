"""Policy-evaluation methods of Jia & Zhou (2022) on discretely observed paths t_i = i dt, i = 0..N.

Notation per path: phi_i = phi(t_i, X_i) [d], g_i = h(X_i), r_i = r(t_i, X_i), increments
d phi_i = phi_{i+1} - phi_i, d g_i = g_{i+1} - g_i, and the TD error of J^theta = h + theta . phi

    delta_i(theta) = J^theta(t_{i+1}, X_{i+1}) - J^theta(t_i, X_i) + r_i dt = d g_i + theta . d phi_i + r_i dt,

the increment of the discretised martingale M^theta (Section 3). Methods (all "sum over i" run over 0..N-1):

* Martingale loss (ML, Section 4.1): ML(theta) = 1/2 E sum_i (G_i - J^theta(t_i, X_i))^2 dt with
  G_i = h(X_N) + sum_{j >= i} r_j dt, the discretised 1/2 E int_0^T (M_T - M^theta_t)^2 dt.
  Offline minimiser in closed form (``ml_solve``, the L2 projection of J) and gradient Monte Carlo
  (episode-wise gradient steps, ``online_linear(kind='ml')``).
* Martingale orthogonality conditions (Section 4.2): E sum_i xi_i delta_i(theta) = 0 for test functions xi.
  xi_i = phi_i gives TD(0); xi_i = sum_{k <= i} lambda^{t_i - t_k} phi_k dt gives TD(lambda).
  Online: stochastic approximation theta <- theta + alpha xi_i delta_i (``online_linear``). Offline for
  linear J^theta: solve the linear system (LSTD / LSTD(lambda), ``lstd_solve``), or minimise the quadratic
  form |E sum xi delta|^2_{M^{-1}} with more test functions than parameters (GTD, ``gtd_solve``).
* Mean-square TD error (MSTDE, Section 3.2): E sum_i (delta_i / dt)^2 dt, the objective the paper shows
  approximates the quadratic variation int |sigma d_x J|^2 dt / dt and is biased (``mstde_solve``).
* Neural J^theta: ML by Adam on minibatches of paths; TD(0) by semi-gradient steps (``train_neural``).
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from papers.martingale_td import value as value_lib
from papers.martingale_td.sde import Problem

LINEAR_OFFLINE = ("ml", "lstd", "lstd_lambda", "gtd", "mstde")


def returns_to_go(r, h_last, dt):
    """G_i = h(X_N) + sum_{j=i}^{N-1} r_j dt for i = 0..N; r [N+1] (r_N unused) -> [N+1]."""
    tail = jnp.cumsum((r[:-1] * dt)[::-1])[::-1]
    return jnp.concatenate([tail, jnp.zeros((1,), r.dtype)]) + h_last


def td_lambda_trace(phi, lam: float, dt: float):
    """xi_i = sum_{k <= i} lambda^{t_i - t_k} phi_k dt (the TD(lambda) test function), [N+1, d].

    Computed as lambda^{t_i} cumsum_k(lambda^{-t_k} phi_k) dt, exact in exact arithmetic; the factors stay
    within [lambda^T, lambda^{-T}], harmless for the horizons and lambdas used here (checked against the
    recursion xi_i = lambda^dt xi_{i-1} + phi_i dt in the tests).
    """
    n = phi.shape[0]
    t = jnp.arange(n, dtype=phi.dtype) * dt
    w = lam**t
    return w[:, None] * jnp.cumsum(phi / w[:, None], axis=0) * dt


def path_statistics(problem: Problem, ts, x, time_degree: int, test_degree: int, lam: float) -> dict:
    """Sufficient statistics of one path x [N+1] for every offline linear method (sums over i < N).

    Returns a dict of (matrix, vector) pairs; summing them over paths and solving gives the estimators.
    """
    dt = ts[1] - ts[0]
    phi = value_lib.features(problem, ts, x, time_degree)                 # [N+1, d]
    psi = value_lib.features(problem, ts, x, test_degree)                 # [N+1, m]
    g = problem.terminal(x)
    r = problem.reward(ts, x)
    G = returns_to_go(r, g[-1], dt)
    dphi, dg = phi[1:] - phi[:-1], g[1:] - g[:-1]
    target = dg + r[:-1] * dt                                             # delta_i = target_i + theta . dphi_i
    p0, xi = phi[:-1], td_lambda_trace(phi, lam, dt)[:-1]
    ps = psi[:-1]
    return {
        "ml": (p0.T @ p0 * dt, p0.T @ (G[:-1] - g[:-1]) * dt),
        "lstd": (-p0.T @ dphi, p0.T @ target),
        "lstd_lambda": (-xi.T @ dphi, xi.T @ target),
        "gtd_C": (-ps.T @ dphi, ps.T @ target),
        "gtd_M": (ps.T @ ps * dt, jnp.zeros(())),
        "mstde": (dphi.T @ dphi / dt, -dphi.T @ target / dt),
    }


def batch_statistics(problem: Problem, ts, xs, time_degree: int, test_degree: int, lam: float,
                     chunk: int = 250) -> dict:
    """Means over paths of ``path_statistics``; xs [P, N+1], processed in chunks of ``chunk`` paths."""
    p = xs.shape[0]
    chunk = min(chunk, p)
    if p % chunk:
        raise ValueError(f"{p} paths are not a multiple of the chunk size {chunk}")
    per = jax.vmap(lambda x: path_statistics(problem, ts, x, time_degree, test_degree, lam))
    sums = jax.lax.map(lambda c: jax.tree.map(lambda a: a.sum(0), per(c)), xs.reshape(p // chunk, chunk, -1))
    return jax.tree.map(lambda a: a.sum(0) / p, sums)


def solve(stats: dict, name: str) -> np.ndarray:
    """theta of an offline method from the (mean) statistics, solved on the host (NumPy, float64).

    The systems are d x d with d <= 12: NumPy's LAPACK solve costs microseconds and no XLA compilation.
    """
    if name == "gtd":
        return gtd_solve(stats)
    a, b = (np.asarray(v, np.float64) for v in stats[name])
    return np.linalg.solve(a, b)


def gtd_solve(stats: dict) -> np.ndarray:
    """GTD: argmin_theta (c - C theta)^T M^{-1} (c - C theta), C [m, d] with m > d test functions (NumPy)."""
    C, c = (np.asarray(v, np.float64) for v in stats["gtd_C"])
    M = np.asarray(stats["gtd_M"][0], np.float64)
    Mi_C = np.linalg.solve(M, C)
    return np.linalg.solve(C.T @ Mi_C, Mi_C.T @ c)


def offline_thetas(stats: dict) -> np.ndarray:
    """All offline estimators, [len(LINEAR_OFFLINE), d], in the order of LINEAR_OFFLINE."""
    return np.stack([solve(stats, n) for n in LINEAR_OFFLINE])


def ml_solve(stats):
    return solve(stats, "ml")


def lstd_solve(stats, lam: bool = False):
    return solve(stats, "lstd_lambda" if lam else "lstd")


def mstde_solve(stats):
    return solve(stats, "mstde")


# ----------------------------------------------------------------------------- online linear methods

@dataclasses.dataclass(frozen=True)
class OnlineSpec:
    kind: str               # 'td0' | 'td_lambda' | 'ml' (gradient Monte Carlo)
    lr: float
    lr_decay_batches: float  # alpha_k = lr / (1 + k / lr_decay_batches), k = index of the episode batch
    batch_paths: int         # episodes run in parallel (updates average over them)
    epochs: int
    lam: float = 0.5


def online_linear(problem: Problem, spec: OnlineSpec, ts, xs, time_degree: int):
    """Online stochastic approximation; returns (Polyak average over the second half, last iterate).

    td0 / td_lambda: at every time step theta <- theta + alpha_k mean_b xi_i delta_i (Section 4.2,
    online TD); ml: after each episode theta <- theta + alpha_k mean_b sum_i phi_i (G_i - J_i) dt
    (gradient Monte Carlo, Section 4.1). xs [P, N+1] with P divisible by batch_paths.
    """
    if spec.kind not in ("td0", "td_lambda", "ml"):
        raise ValueError(f"unknown online method {spec.kind!r}")
    return _online(problem, spec, ts, xs, time_degree, spec.kind, jnp.asarray(spec.lr, xs.dtype))


def online_td_pair(problem: Problem, spec: OnlineSpec, ts, xs, time_degree: int, lrs):
    """TD(0) and TD(lambda) in one vmapped program (one compilation): lrs [2] -> (avg [2, d], last [2, d])."""
    return jax.vmap(lambda use_trace, lr: _online(problem, spec, ts, xs, time_degree, use_trace, lr))(
        jnp.asarray([False, True]), lrs)


def _online(problem, spec, ts, xs, time_degree, kind, lr):
    """kind: 'ml', or a (possibly traced) bool 'use the TD(lambda) trace' / the strings td0, td_lambda."""
    p, n1 = xs.shape
    b = spec.batch_paths
    if p % b:
        raise ValueError(f"{p} paths are not a multiple of batch_paths={b}")
    dt = ts[1] - ts[0]
    d = value_lib.num_linear_features(time_degree)
    batches = xs.reshape(p // b, b, n1)
    n_batches = spec.epochs * (p // b)
    decay = spec.lam**dt
    use_trace = kind == "td_lambda" if isinstance(kind, str) else kind

    def episode(theta, k):
        xb = batches[k % (p // b)]                                           # [B, N+1]
        alpha = lr / (1.0 + k / spec.lr_decay_batches)
        phi = value_lib.features(problem, ts[None], xb, time_degree)         # [B, N+1, d]
        g = problem.terminal(xb)
        r = problem.reward(ts[None], xb)
        if isinstance(kind, str) and kind == "ml":
            G = jax.vmap(returns_to_go, in_axes=(0, 0, None))(r, g[:, -1], dt)
            resid = G - g - phi @ theta
            step = jnp.einsum("bid,bi->d", phi[:, :-1], resid[:, :-1]) * dt / b
            return theta + alpha * step

        def tstep(carry, i):
            th, e = carry
            delta = g[:, i + 1] - g[:, i] + (phi[:, i + 1] - phi[:, i]) @ th + r[:, i] * dt   # [B]
            e = decay * e + phi[:, i] * dt
            xi = jnp.where(use_trace, e, phi[:, i])
            th = th + alpha * (xi * delta[:, None]).mean(0)
            return (th, e), None

        (theta, _), _ = jax.lax.scan(tstep, (theta, jnp.zeros((b, d), xs.dtype)), jnp.arange(n1 - 1))
        return theta

    def outer(carry, k):
        theta, avg, cnt = carry
        theta = episode(theta, k)
        use = k >= n_batches // 2
        avg = jnp.where(use, avg + theta, avg)
        return (theta, avg, cnt + use), None

    zero = jnp.zeros((d,), xs.dtype)
    (theta, avg, cnt), _ = jax.lax.scan(outer, (zero, zero, jnp.zeros((), xs.dtype)), jnp.arange(n_batches))
    return avg / cnt, theta


# ----------------------------------------------------------------------------- neural value functions

def neural_losses(problem: Problem, module, params, ts, xb):
    """(ML loss, TD(0) semi-gradient surrogate) on a batch of paths xb [B, N+1].

    The surrogate -mean_b sum_i stopgrad(delta_i) J^theta(t_i, X_i) has gradient -E sum_i delta_i d_theta J_i:
    its descent direction is the online TD(0) update (test function xi = d_theta J^theta).
    """
    dt = ts[1] - ts[0]
    J = value_lib.neural_value(problem, module, params, ts[None], xb)     # [B, N+1]
    r = problem.reward(ts[None], xb)
    G = jax.vmap(returns_to_go, in_axes=(0, 0, None))(r, problem.terminal(xb[:, -1]), dt)
    ml = 0.5 * jnp.mean(jnp.sum((G - J)[:, :-1]**2, axis=1) * dt)
    delta = J[:, 1:] - J[:, :-1] + r[:, :-1] * dt
    td = -jnp.mean(jnp.sum(jax.lax.stop_gradient(delta) * J[:, :-1], axis=1))
    return ml, td


def train_neural(problem: Problem, kind, key, ts, xs, *, hidden, steps: int, batch_paths: int, lr: float):
    """Trains J^theta = h + tau MLP by ML (kind 'ml' or 0) or TD(0) (kind 'td' or 1) with Adam; returns params.

    Minibatches: path indices drawn by fold_in(key, step), so the run is a pure function of its inputs.
    ``kind`` may be traced (the two losses are selected with lax.switch), so both methods can be vmapped.
    """
    which = {"ml": 0, "td": 1}[kind] if isinstance(kind, str) else kind
    module, params = value_lib.init_mlp(jax.random.fold_in(key, 0), hidden, xs.dtype)
    tx = optax.adam(optax.cosine_decay_schedule(lr, steps, alpha=0.01))
    opt_state = tx.init(params)

    def loss_fn(prm, xb):
        ml, td = neural_losses(problem, module, prm, ts, xb)
        if isinstance(which, int):            # method known when tracing: differentiate only its loss
            return (ml, td)[which]
        return jnp.where(which == 0, ml, td)

    def step(carry, s):
        prm, st = carry
        idx = jax.random.randint(jax.random.fold_in(key, s + 1), (batch_paths,), 0, xs.shape[0])
        grads = jax.grad(loss_fn)(prm, xs[idx])
        upd, st = tx.update(grads, st, prm)
        return (optax.apply_updates(prm, upd), st), None

    (params, _), _ = jax.lax.scan(step, (params, opt_state), jnp.arange(steps))
    return params


def train_neural_pair(problem: Problem, keys, ts, xs, **kw):
    """ML and TD(0) neural fits in one vmapped program; keys [2] -> params stacked on a leading axis of 2."""
    return jax.vmap(lambda k, which: train_neural(problem, which, k, ts, xs, **kw))(keys, jnp.arange(2))


# ----------------------------------------------------------------------------- errors against the true J

def error_statistics(problem: Problem, ts, xs, time_degree: int) -> dict:
    """Q = mean sum_i phi phi^T dt, q = mean sum_i phi (J - h) dt, s = mean sum_i (J - h)^2 dt on paths xs."""
    dt = ts[1] - ts[0]
    phi = value_lib.features(problem, ts[None], xs, time_degree)[:, :-1]
    u = (problem.value(ts[None], xs) - problem.terminal(xs))[:, :-1]
    p = xs.shape[0]
    return {"Q": jnp.einsum("pid,pie->de", phi, phi) * dt / p, "q": jnp.einsum("pid,pi->d", phi, u) * dt / p,
            "s": jnp.sum(u**2) * dt / p}


def linear_relative_error(err_stats: dict, theta):
    """||J^theta - J||_{L2} / ||J - h||_{L2} over (t, X_t) on the evaluation paths (a quadratic form in theta)."""
    Q, q, s = err_stats["Q"], err_stats["q"], err_stats["s"]
    sq = theta @ Q @ theta - 2 * theta @ q + s
    return jnp.sqrt(jnp.maximum(sq, 0.0) / s)


def neural_relative_error(problem: Problem, module, params, ts, xs):
    """The same relative L2 error for a neural J^theta on the evaluation paths."""
    J_hat = value_lib.neural_value(problem, module, params, ts[None], xs)[:, :-1]
    J = problem.value(ts[None], xs)[:, :-1]
    u = J - problem.terminal(xs)[:, :-1]
    return jnp.sqrt(jnp.sum((J_hat - J)**2) / jnp.sum(u**2))


def fit_loglog_slope(h, err) -> float:
    """Least-squares slope of log err against log h."""
    h, err = np.log(np.asarray(h, float)), np.log(np.asarray(err, float))
    return float(np.polyfit(h, err, 1)[0])


def fit_rate_to_reference(h, dist, h_ref: float) -> float:
    """Rate p of dist(h) = C (h^p - h_ref^p), least squares in log dist (C profiled out, p in [0.05, 4]).

    The distance of the estimator on grid h to the one on a finer reference grid h_ref (not to the h -> 0
    limit): for theta_h = theta_0 + c h^p it is |c| (h^p - h_ref^p). The plain log-log slope of that
    distance overstates p (p = 1/2 on h = 1/50 .. 1/1000 against h_ref = 1/4000 fits 0.69); this fit does not.
    """
    from scipy.optimize import minimize_scalar

    log_h, log_d = np.log(np.asarray(h, float)), np.log(np.asarray(dist, float))

    def sse(p):
        resid = log_d - np.log(np.exp(p * log_h) - h_ref**p)
        return float(np.sum((resid - resid.mean())**2))
    return float(minimize_scalar(sse, bounds=(0.05, 4.0), method="bounded", options={"xatol": 1e-6}).x)
