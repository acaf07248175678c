"""Sufficient statistics of the offline linear methods, accumulated while simulating (no paths stored).

The linear features factor as phi(t, x) = kron(e(x), p(t)) with e = (u^2, 1), u = (x - c)/s, and p(t) the
time polynomials (``value.features``); the GTD test functions are psi = kron(e, q(t)) with more time
polynomials. Every matrix and vector of ``methods.path_statistics`` is therefore a sum over time steps of
(path sums of a few products of e_i, e_{i+1}, the TD target tau_i = h(X_{i+1}) - h(X_i) + r_i dt and the
TD(lambda) trace xi_i) times deterministic time polynomials:

    sum_P phi_i phi_i^T          = kron(sum_P e_i e_i^T, p_i p_i^T)
    sum_P phi_i dphi_i^T         = kron(sum_P e_i e_{i+1}^T, p_i p_{i+1}^T) - kron(sum_P e_i e_i^T, p_i p_i^T)
    sum_P xi_i dphi_i^T          = (sum_P xi_i e_{i+1}^T) (x) p_{i+1}^T - (sum_P xi_i e_i^T) (x) p_i^T
    sum_P phi_i (G_i - h_i) dt   = sum_P a (h_N + R_N) - kron(sum_P e_i (R_i + h_i), p_i) dt,
                                   a = sum_i phi_i dt per path, R_i = sum_{j<i} r_j dt (G_i = h_N + R_N - R_i)

so one forward pass per path with a small state (X, the path-dependent half of the trace xi_u [K], a [K], R)
and, per step, one small matrix of path sums [3 + K, 5] gives all of ML, LSTD, LSTD(lambda), GTD and MSTDE. Memory does not grow
with the number of paths or steps beyond the per-step sums.

Common random numbers: the grids dt = T s / n_fine for all strides s of a batch are driven by one Brownian
motion on the n_fine grid (a coarse increment is the sum of s fine ones), so differences between grids are
discretisation errors of the same paths, with little Monte Carlo noise.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from papers.martingale_td import value as value_lib
from papers.martingale_td.sde import Problem


def _segment_program(problem: Problem, time_degree: int, lam: float):
    """(state, t0, dt, dw [L, P]) -> (state, M [L, 3 + K, 5]): L Euler steps of one grid and their path sums.

    state = (X [P], xi_u [P, K], a [P, K], R [P]) with the path-dependent half of the TD(lambda) trace
    xi_u,i = sum_{k<=i} lambda^{t_i - t_k} u_k^2 p_k dt (the other half, with u^2 replaced by 1, is
    deterministic), a = sum_i u_i^2 p_i dt and R_i = sum_{j<i} r_j dt.
    M_i = sum_P L_i R_i^T with L = (1, u_i^2, u_{i+1}^2, xi_u,i) and R = (1, u_i^2, u_{i+1}^2, tau_i,
    R_i + h(X_i)), tau_i = h(X_{i+1}) - h(X_i) + r_i dt the TD target.
    """
    K = time_degree

    def step(dt, decay, state, inputs):
        x, xi, a, R = state
        t, dw = inputs
        p = value_lib.time_basis(problem, t, K)                                    # [K]
        u2 = value_lib.state_basis(problem, x)
        x1 = x + problem.drift(t, x) * dt + problem.diffusion(t, x) * dw          # Euler-Maruyama
        u2n = value_lib.state_basis(problem, x1)
        ones = jnp.ones_like(x)
        g, g1, r = problem.terminal(x), problem.terminal(x1), problem.reward(t, x)
        u2p = u2[:, None] * p
        xi = decay * xi + u2p * dt
        left = jnp.concatenate([ones[:, None], u2[:, None], u2n[:, None], xi], axis=1)
        right = jnp.stack([ones, u2, u2n, g1 - g + r * dt, R + g], axis=1)
        return (x1, xi, a + u2p * dt, R + r * dt), left.T @ right

    def segment(state, t0, dt, dw):
        ts = t0 + jnp.arange(dw.shape[0], dtype=dw.dtype) * dt
        return jax.lax.scan(functools.partial(step, dt, lam**dt), state, (ts, dw))
    return segment


def initial_state(x0, time_degree: int):
    """(X_0, xi_u = 0, a = 0, R = 0) as host arrays (x0 [P] NumPy)."""
    p, K = x0.shape[0], time_degree
    return (x0, np.zeros((p, K), x0.dtype), np.zeros((p, K), x0.dtype), np.zeros((p,), x0.dtype))


@functools.lru_cache(maxsize=None)
def _noise_program(n_paths: int, rng_block: int):
    """Standard normals [n_paths, rng_block + 1] (float32) per key; one program for every problem."""
    return jax.jit(lambda k: jax.random.normal(k, (n_paths, rng_block + 1), jnp.float32))


class MomentSampler:
    """Batches of n_paths paths; per batch one Brownian motion drives the grids of all requested strides.

    Compiled once per (problem, n_paths, time_degree, seg_len, rng_block): the noise program draws
    float32 normals [n_paths, rng_block + 1] per key (shared by all problems of the same sizes), the segment
    program runs seg_len Euler steps of any grid (t0 and dt are arguments), so every grid and every batch
    reuses the same two programs.
    Increments of batch key k: block b of rng_block fine steps from fold_in(k, b) (columns 1..), X_0 from
    column 0 of block 0. Normals are drawn in float32 (a rounding of N(0, 1) at 1e-7) and used in float64.
    """

    def __init__(self, problem: Problem, n_paths: int, time_degree: int, test_degree: int, lam: float,
                 seg_len: int, rng_block: int):
        self.problem, self.n_paths = problem, int(n_paths)
        self.time_degree, self.test_degree, self.lam = int(time_degree), int(test_degree), float(lam)
        self.seg_len, self.rng_block = int(seg_len), int(rng_block)
        self._noise = _noise_program(self.n_paths, self.rng_block)
        self._segment = jax.jit(_segment_program(problem, self.time_degree, self.lam))

    def _end(self, state):
        """(sum_P a (h(X_N) + R_N) [K], sum_P (h(X_N) + R_N)) from the final state, on the host."""
        x, _, a, R = (np.asarray(v, np.float64) for v in state)
        H = np.asarray(self.problem.terminal(x), np.float64) + R
        return a.T @ H, np.sum(H)

    def increments(self, key, n_fine: int):
        """(X_0 [P], dW [P, n_fine]) as float64 NumPy arrays, Var dW = T / n_fine."""
        if n_fine % self.rng_block:
            raise ValueError(f"n_fine={n_fine} is not a multiple of rng_block={self.rng_block}")
        blocks = [np.asarray(self._noise(jax.random.fold_in(key, b)), np.float64)
                  for b in range(n_fine // self.rng_block)]
        p = self.problem
        x0 = p.x0_mean + p.x0_std * blocks[0][:, 0]
        dw = np.concatenate([b[:, 1:] for b in blocks], axis=1) * math.sqrt(p.horizon / n_fine)
        return x0, dw

    def moments(self, key, n_fine: int, strides) -> list[dict]:
        """Per grid (stride s, dt = T s / n_fine): {M [N_s, 3 + K, 5], end_a [K], end_H, n} (path sums)."""
        x0, dw = self.increments(key, n_fine)
        out = []
        for s in strides:
            n_steps = n_fine // s
            if n_fine % s or n_steps % self.seg_len:
                raise ValueError(f"stride {s}: {n_fine} / {s} steps must be a multiple of seg_len={self.seg_len}")
            dt = self.problem.horizon * s / n_fine
            inc = dw.reshape(self.n_paths, n_steps, s).sum(-1).T                      # [N_s, P]
            state = initial_state(x0, self.time_degree)
            ms = []
            for k in range(n_steps // self.seg_len):
                sl = slice(k * self.seg_len, (k + 1) * self.seg_len)
                state, m = self._segment(state, jnp.asarray(k * self.seg_len * dt), jnp.asarray(dt),
                                         jnp.asarray(inc[sl]))
                ms.append(m)
            end_a, end_H = self._end(state)
            out.append({"M": np.concatenate([np.asarray(m) for m in ms]), "end_a": np.asarray(end_a),
                        "end_H": float(end_H), "n": float(self.n_paths)})
        return out

    def statistics(self, key, n_fine: int, strides) -> list[dict]:
        """``methods.path_statistics`` dicts (means over the batch) for every stride, from one Brownian motion."""
        return [statistics_from_moments(self.problem, m, self.problem.horizon * s / n_fine, self.time_degree,
                                        self.test_degree, self.lam) for m, s in zip(self.moments(key, n_fine, strides), strides)]


def _kron_sum(E, pl, pr):
    """sum_i kron(E_i, pl_i pr_i^T): E [N, 2, 2], pl [N, K1], pr [N, K2] -> [2 K1, 2 K2]."""
    k1, k2 = pl.shape[1], pr.shape[1]
    return np.einsum("iab,ij,ik->ajbk", E, pl, pr).reshape(2 * k1, 2 * k2)


def _kron_vec(v, p):
    """sum_i kron(v_i, p_i): v [N, 2], p [N, K] -> [2 K]."""
    return np.einsum("ia,ij->aj", v, p).reshape(-1)


def statistics_from_moments(problem: Problem, mom: dict, dt: float, time_degree: int, test_degree: int,
                            lam: float) -> dict:
    """The dict of ``methods.path_statistics`` (means over paths) from the per-step sums of one grid."""
    M, n = mom["M"], mom["n"]
    N = M.shape[0]
    ts = np.arange(N + 1, dtype=np.float64) * dt
    P = value_lib.time_basis(problem, ts, time_degree, np)                        # [N+1, K]
    Q = value_lib.time_basis(problem, ts, test_degree, np)                        # [N+1, K']
    p0, p1, q0 = P[:-1], P[1:], Q[:-1]
    # path sums per step: e = (u^2, 1), e' = (u'^2, 1); index 0 of L and R is the constant 1
    S = lambda i, j: M[:, i, j]
    Eee = np.stack([np.stack([S(1, 1), S(1, 0)], -1), np.stack([S(0, 1), S(0, 0)], -1)], -2)     # sum e e^T
    Eee1 = np.stack([np.stack([S(1, 2), S(1, 0)], -1), np.stack([S(0, 2), S(0, 0)], -1)], -2)    # sum e e'^T
    E11 = np.stack([np.stack([S(2, 2), S(2, 0)], -1), np.stack([S(0, 2), S(0, 0)], -1)], -2)     # sum e' e'^T
    Eet, E1t, Eec = (np.stack([S(1, 3), S(0, 3)], -1), np.stack([S(2, 3), S(0, 3)], -1),
                     np.stack([S(1, 4), S(0, 4)], -1))
    # TD(lambda) trace xi = (xi_u, xi_1): xi_u path-dependent (rows 3.. of M), xi_1 deterministic
    decay = lam**dt
    xi1 = np.zeros_like(P[:-1])
    acc = np.zeros(time_degree)
    for i in range(N):
        acc = decay * acc + P[i] * dt
        xi1[i] = acc
    Xu = M[:, 3:, :]                                                      # [N, K, 5]
    Xe = np.concatenate([np.stack([Xu[:, :, 1], Xu[:, :, 0]], -1), xi1[:, :, None] * Eee[:, None, 1, :]], 1)
    Xe1 = np.concatenate([np.stack([Xu[:, :, 2], Xu[:, :, 0]], -1), xi1[:, :, None] * Eee1[:, None, 1, :]], 1)
    Xt = np.concatenate([Xu[:, :, 3], xi1 * S(0, 3)[:, None]], 1)
    d = 2 * time_degree
    # ML: sum_i phi_i (G_i - h_i) dt = sum_P a_full (h_N + R_N) - sum_i kron(E[e (R + h)], p_i) dt
    a_full = np.concatenate([mom["end_a"], np.sum(p0, 0) * dt * mom["end_H"]])
    ml_A = _kron_sum(Eee, p0, p0) * dt
    ml_b = a_full - _kron_vec(Eec, p0) * dt
    pp = _kron_sum(Eee, p0, p0)
    lstd_A = -(_kron_sum(Eee1, p0, p1) - pp)
    lstd_b = _kron_vec(Eet, p0)
    lam_A = -(np.einsum("iaj,ik->ajk", Xe1, p1).reshape(d, d) - np.einsum("iaj,ik->ajk", Xe, p0).reshape(d, d))
    lam_b = Xt.sum(0)
    gC = -(_kron_sum(Eee1, q0, p1) - _kron_sum(Eee, q0, p0))
    gc = _kron_vec(Eet, q0)
    gM = _kron_sum(Eee, q0, q0) * dt
    dd = (_kron_sum(E11, p1, p1) - _kron_sum(np.swapaxes(Eee1, 1, 2), p1, p0) - _kron_sum(Eee1, p0, p1) + pp)
    md_b = -(_kron_vec(E1t, p1) - _kron_vec(Eet, p0))
    stats = {
        "ml": (ml_A, ml_b),
        "lstd": (lstd_A, lstd_b),
        "lstd_lambda": (lam_A, lam_b),
        "gtd_C": (gC, gc),
        "gtd_M": (gM, np.zeros(())),
        "mstde": (dd / dt, md_b / dt),
    }
    return {k: (a / n, b / n) for k, (a, b) in stats.items()}


@dataclasses.dataclass(frozen=True)
class QuadraticSpec:
    """A problem whose Euler chain has closed moment recursions in Y = X - centre (ou and mv here).

    dY = -kappa Y dt + sqrt(beta2 Y^2 + c(t)) dW, Y_0 ~ N(y0_mean, y0_std^2), reward r = q_r Y^2 + r0(t),
    terminal h = q_h Y^2 + h0. Then E[Y_{i+1}^2 | Y_i] and E[Y_{i+1}^4 | Y_i] are polynomials in Y_i^2.
    """
    kappa: float
    beta2: float
    c: Callable
    q_r: float
    r0: Callable
    q_h: float
    h0: float
    y0_mean: float
    y0_std: float


def quadratic_spec(cfg, problem: Problem) -> QuadraticSpec:
    """The QuadraticSpec of a config block of ``sde.make_problem`` (checked against the problem in the tests)."""
    if cfg.name == "ou":
        return QuadraticSpec(cfg.kappa, 0.0, lambda t: cfg.sigma**2 + 0.0 * t, 1.0, lambda t: 0.0 * t, cfg.q, 0.0,
                             0.0, cfg.x0_std)
    if cfg.name == "mv":
        w = problem.centre
        pv = lambda t: cfg.lam / (2 * cfg.sigma**2) * np.exp(cfg.rho**2 * (cfg.horizon - t))
        return QuadraticSpec(cfg.rho**2, cfg.rho**2, lambda t: cfg.sigma**2 * pv(t), 0.0,
                             lambda t: -cfg.lam * 0.5 * np.log(2 * np.pi * np.e * pv(t)), 1.0,
                             -(w - cfg.z)**2, cfg.x0 - w, cfg.x0_std)
    raise ValueError(f"no closed moment recursion for problem {cfg.name!r}")


def expected_moments(problem: Problem, spec: QuadraticSpec, n_steps: int, time_degree: int, lam: float) -> dict:
    """E of the per-path sums of ``MomentSampler.moments`` on the grid dt = T / n_steps, exactly.

    With Z = Y^2 / s^2 every entry of M_i, a H and H is a linear combination of E[Z_a] and E[Z_a Z_b]. The
    Euler step Y' = alpha Y + sqrt(beta2 Y^2 + c) dW (alpha = 1 - kappa dt) gives
        E[Y'^2 | Y] = a2 Y^2 + c dt,                     a2 = alpha^2 + beta2 dt,
        E[Y'^4 | Y] = a4 Y^4 + 6 c dt (alpha^2 + beta2 dt) Y^2 + 3 c^2 dt^2,   a4 = alpha^4 + 6 alpha^2 beta2 dt + 3 beta2^2 dt^2,
    so E[Y_b^2 | Y_a] = A_ab Y_a^2 + B_ab (a <= b) and E[Y_a^2 Y_b^2] = A_ab E[Y_a^4] + B_ab E[Y_a^2].
    Plugging the result into ``statistics_from_moments`` gives the estimators on infinitely many paths of
    the grid, i.e. the discretisation effect without Monte Carlo noise. Column 4 of the trace rows
    (E[xi c]) is not used by any estimator and is left at 0. Cost O(n_steps^2 K) time, O(n_steps^2) memory.
    """
    N, K = int(n_steps), int(time_degree)
    dt = problem.horizon / N
    S = problem.x_scale**2
    ts = np.arange(N + 1) * dt
    alpha = 1.0 - spec.kappa * dt
    c = np.asarray(spec.c(ts[:N]), np.float64) * np.ones(N)
    a2 = alpha**2 + spec.beta2 * dt
    a4 = alpha**4 + 6 * alpha**2 * spec.beta2 * dt + 3 * spec.beta2**2 * dt**2
    mu, sd = spec.y0_mean, spec.y0_std
    y2, y4 = np.empty(N + 1), np.empty(N + 1)
    y2[0], y4[0] = mu**2 + sd**2, mu**4 + 6 * mu**2 * sd**2 + 3 * sd**4
    for i in range(N):
        y2[i + 1] = a2 * y2[i] + c[i] * dt
        y4[i + 1] = a4 * y4[i] + 6 * c[i] * dt * a2 * y2[i] + 3 * c[i]**2 * dt**2
    # A_ab = a2^(b - a), B_ab = sum_{a <= k < b} a2^(b - 1 - k) c_k dt for a <= b
    idx = np.arange(N + 1)
    gap = np.subtract.outer(idx, idx).T                                        # gap[a, b] = b - a
    A = np.where(gap >= 0, a2**np.maximum(gap, 0), 0.0)
    B = np.zeros((N + 1, N + 1))
    for b in range(N):
        B[:, b + 1] = a2 * B[:, b] + np.where(idx <= b, c[b] * dt, 0.0)
    upper = A * y4[:, None] + B * y2[:, None]                                  # E[Y_a^2 Y_b^2], a <= b
    Y22 = np.triu(upper) + np.triu(upper, 1).T
    C2 = Y22 / S**2                                                            # E[Z_a Z_b]
    m = y2 / S                                                                 # E[Z_a]
    del A, B, upper, Y22
    cum = np.concatenate([np.zeros((1, N + 1)), np.cumsum(C2, axis=0)])         # cum[i, b] = sum_{j<i} C2[j, b]
    cum_m = np.concatenate([[0.0], np.cumsum(m)])
    r0 = np.asarray(spec.r0(ts[:N]), np.float64) * np.ones(N)
    R0 = np.concatenate([[0.0], np.cumsum(r0)])                                # R0[i] = sum_{j<i} r0_j
    P = value_lib.time_basis(problem, ts, K, np)[:N]                         # p_k, k < N
    ii = np.arange(N)
    W = np.tril(lam**(np.subtract.outer(ii, ii) * dt)) * dt                    # W[i, k] = lam^{(i-k)dt} dt, k <= i
    qh, qr, h0 = spec.q_h, spec.q_r, spec.h0
    E_tau = S * (qh * (m[1:] - m[:-1]) + qr * m[:-1] * dt) + r0 * dt
    E_c = dt * (qr * S * cum_m[:N] + R0[:N]) + qh * S * m[:-1] + h0
    Ztau = lambda b: S * (qh * (C2[ii + 1, b] - C2[ii, b]) + qr * C2[ii, b] * dt) + r0 * dt * m[b]
    Zc = lambda b: qr * S * dt * cum[ii, b] + dt * R0[:N] * m[b] + qh * S * C2[ii, b] + h0 * m[b]
    E_xi = W @ (P * m[:N, None])                                               # [N, K]
    E_xiZ0 = np.einsum("ik,kj,ki->ij", W, P, C2[:N, :N])                       # E[xi_i Z_i]
    E_xiZ1 = np.einsum("ik,kj,ki->ij", W, P, C2[:N, 1:])                       # E[xi_i Z_{i+1}]
    M = np.zeros((N, 3 + K, 5))
    M[:, 0] = np.stack([np.ones(N), m[:-1], m[1:], E_tau, E_c], -1)
    M[:, 1] = np.stack([m[:-1], C2[ii, ii], C2[ii, ii + 1], Ztau(ii), Zc(ii)], -1)
    M[:, 2] = np.stack([m[1:], C2[ii + 1, ii], C2[ii + 1, ii + 1], Ztau(ii + 1), Zc(ii + 1)], -1)
    M[:, 3:, 0], M[:, 3:, 1], M[:, 3:, 2] = E_xi, E_xiZ0, E_xiZ1
    M[:, 3:, 3] = S * (qh * (E_xiZ1 - E_xiZ0) + qr * dt * E_xiZ0) + (r0 * dt)[:, None] * E_xi
    ZH = qh * S * C2[:N, N] + h0 * m[:N] + qr * S * dt * cum[N, :N] + dt * R0[N] * m[:N]   # E[Z_k H], k < N
    E_H = qh * S * m[N] + h0 + qr * S * dt * cum_m[N] + dt * R0[N]
    return {"M": M, "end_a": (P * dt).T @ ZH, "end_H": E_H, "n": 1.0}


def expected_statistics(problem: Problem, spec: QuadraticSpec, n_steps: int, time_degree: int, test_degree: int,
                        lam: float) -> dict:
    """``methods.path_statistics`` in expectation (infinitely many paths) on the grid dt = T / n_steps."""
    mom = expected_moments(problem, spec, n_steps, time_degree, lam)
    return statistics_from_moments(problem, mom, problem.horizon / n_steps, time_degree, test_degree, lam)
