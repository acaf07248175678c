"""Solvers: log-domain Sinkhorn and Sinkhorn-Newton-Sparse (SNS, Algorithm 1), single and batched.

Public entry points: :func:`solve` and :func:`solve_batch`. Both run in float64 inside a
``jax.enable_x64(True)`` context (nothing is changed globally) and return numpy arrays.

Iteration counting follows the paper's Table 1: an SNS iteration is either a Sinkhorn step
(stage 1, or a fallback step) or a Newton step; ``history[k]`` is the l1 marginal error
||P1 - r||_1 + ||P^T 1 - c||_1 after k iterations (after a Sinkhorn y-update the column term is
exact up to rounding, so only the row term is evaluated there).

Stage switching (Algorithm 1): stage 1 runs ``n_sinkhorn`` (N1) Sinkhorn steps, or fewer if the
tolerance is met; stage 2 runs Newton steps until the tolerance or ``max_iter``. Fallback when
Newton stalls: if a Newton step finds no Armijo step (the line search fails), the point is kept and
the next ``fallback_steps`` iterations are Sinkhorn steps, after which Newton resumes.
"""
from __future__ import annotations

import dataclasses
import functools
import time

import jax
import jax.numpy as jnp
import numpy as np

from papers.sinkhorn_newton_sparse import lyapunov, newton

METHODS = ("sns", "sinkhorn")


@dataclasses.dataclass
class SolveResult:
    """The result of one solve (numpy arrays, float64)."""
    plan: np.ndarray            # [n, m] transport plan P(x, y)
    x: np.ndarray               # [n] dual potential
    y: np.ndarray               # [m] dual potential
    iterations: int             # total iterations (Sinkhorn + Newton steps)
    sinkhorn_iterations: int
    newton_iterations: int
    cg_iterations: int          # total CG iterations over all Newton steps
    fallbacks: int              # Newton steps that failed the line search
    history: np.ndarray         # [iterations + 1] l1 marginal error after each iteration
    error: float                # final l1 marginal error, recomputed from (x, y)
    converged: bool
    seconds: float = float("nan")  # wall time of the (already compiled) solve


# ---------------------------------------------------------------- jitted cores (pure, float64 inside)

def _sinkhorn_loop(etaC, log_r, log_c, r, eta, tol, x, y, k, hist, err, stop):
    """Log-domain Sinkhorn steps (Eq. (3)) while k < stop and err > tol; two log-sum-exp passes per step."""
    lse = lyapunov.row_lse(etaC, y, eta)

    def cond(s):
        _, _, _, err, k, _ = s
        return (k < stop) & (err > tol)

    def body(s):
        x, y, lse, _, k, hist = s
        x = lyapunov.sinkhorn_x_update(log_r, lse, eta)
        y = lyapunov.sinkhorn_y_update(log_c, lyapunov.col_lse(etaC, x, eta), eta)
        lse = lyapunov.row_lse(etaC, y, eta)
        err = lyapunov.row_error_from_lse(r, x, lse, eta)
        hist = hist.at[k + 1].set(err)
        return x, y, lse, err, k + 1, hist

    x, y, _, err, k, hist = jax.lax.while_loop(cond, body, (x, y, lse, err, k, hist))
    return x, y, err, k, hist


def _init(C, r, c, eta, max_iter):
    n, m = C.shape
    x, y = jnp.zeros(n, C.dtype), jnp.zeros(m, C.dtype)
    err = lyapunov.marginal_error(C, r, c, x, y, eta)
    hist = jnp.full((max_iter + 1,), jnp.nan, C.dtype).at[0].set(err)
    return x, y, err, hist


def _sinkhorn_core(C, r, c, eta, tol, *, max_iter):
    x, y, err, hist = _init(C, r, c, eta, max_iter)
    x, y, err, k, hist = _sinkhorn_loop(eta * C, jnp.log(r), jnp.log(c), r, eta, tol,
                                        x, y, jnp.asarray(0, jnp.int32), hist, err, max_iter)
    zero = jnp.asarray(0, jnp.int32)
    return dict(x=x, y=y, err=err, k=k, hist=hist, k_sinkhorn=k, k_newton=zero, cg=zero, fallbacks=zero)


def _sns_core(C, r, c, eta, tol, n_sinkhorn, fallback_steps, cg_tol, cg_max_iter, *, max_iter, k_keep,
              jacobi, max_backtracks):
    etaC, log_r, log_c = eta * C, jnp.log(r), jnp.log(c)
    x, y, err, hist = _init(C, r, c, eta, max_iter)
    zero = jnp.asarray(0, jnp.int32)
    # Stage 1 (Algorithm 1, lines 2-5): N1 Sinkhorn steps.
    x, y, err, k, hist = _sinkhorn_loop(etaC, log_r, log_c, r, eta, tol, x, y, zero, hist, err,
                                        jnp.minimum(n_sinkhorn, max_iter))

    # Stage 2 (lines 6-11): sparse Newton steps, with Sinkhorn fallback steps after a stalled one.
    def newton_branch(s):
        x, y, err, k, hist, n_sk, n_nt, cg, fb, left = s
        out = newton.newton_step(C, r, c, x, y, eta, k=k_keep, cg_tol=cg_tol, cg_max_iter=cg_max_iter,
                                 jacobi=jacobi, max_backtracks=max_backtracks)
        left = jnp.where(out.accepted, 0, fallback_steps).astype(jnp.int32)
        fb = fb + jnp.where(out.accepted, 0, 1).astype(jnp.int32)
        return out.x, out.y, out.error, k + 1, hist.at[k + 1].set(out.error), n_sk, n_nt + 1, \
            cg + out.cg_iters, fb, left

    def sinkhorn_branch(s):
        x, y, err, k, hist, n_sk, n_nt, cg, fb, left = s
        x, y = lyapunov.sinkhorn_step(etaC, log_r, log_c, x, y, eta)
        err = lyapunov.marginal_error(C, r, c, x, y, eta)
        return x, y, err, k + 1, hist.at[k + 1].set(err), n_sk + 1, n_nt, cg, fb, (left - 1).astype(jnp.int32)

    def cond(s):
        return (s[3] < max_iter) & (s[2] > tol)

    def body(s):
        return jax.lax.cond(s[-1] > 0, sinkhorn_branch, newton_branch, s)

    fallback_steps = jnp.asarray(fallback_steps, jnp.int32)
    s = (x, y, err, k, hist, k, zero, zero, zero, zero)
    x, y, err, k, hist, n_sk, n_nt, cg, fb, _ = jax.lax.while_loop(cond, body, s)
    return dict(x=x, y=y, err=err, k=k, hist=hist, k_sinkhorn=n_sk, k_newton=n_nt, cg=cg, fallbacks=fb)


@functools.partial(jax.jit, static_argnames=("max_iter",))
def _sinkhorn_jit(C, r, c, eta, tol, *, max_iter):
    return _sinkhorn_core(C, r, c, eta, tol, max_iter=max_iter)


@functools.partial(jax.jit, static_argnames=("max_iter", "k_keep", "jacobi", "max_backtracks"))
def _sns_jit(C, r, c, eta, tol, n_sinkhorn, fallback_steps, cg_tol, cg_max_iter, *, max_iter, k_keep,
             jacobi, max_backtracks):
    return _sns_core(C, r, c, eta, tol, n_sinkhorn, fallback_steps, cg_tol, cg_max_iter, max_iter=max_iter,
                     k_keep=k_keep, jacobi=jacobi, max_backtracks=max_backtracks)


@functools.partial(jax.jit, static_argnames=("max_iter",))
def _sinkhorn_batch_jit(C, r, c, eta, tol, *, max_iter):
    return jax.vmap(lambda C, r, c: _sinkhorn_core(C, r, c, eta, tol, max_iter=max_iter))(C, r, c)


@functools.partial(jax.jit, static_argnames=("max_iter", "k_keep", "jacobi", "max_backtracks"))
def _sns_batch_jit(C, r, c, eta, tol, n_sinkhorn, fallback_steps, cg_tol, cg_max_iter, *, max_iter, k_keep,
                   jacobi, max_backtracks):
    core = lambda C, r, c: _sns_core(C, r, c, eta, tol, n_sinkhorn, fallback_steps, cg_tol, cg_max_iter,
                                     max_iter=max_iter, k_keep=k_keep, jacobi=jacobi,
                                     max_backtracks=max_backtracks)
    return jax.vmap(core)(C, r, c)


# ---------------------------------------------------------------- public API

def _check(cost, a, b):
    cost, a, b = np.asarray(cost, np.float64), np.asarray(a, np.float64), np.asarray(b, np.float64)
    if cost.shape[-2:] != a.shape[-1:] + b.shape[-1:]:
        raise ValueError(f"cost {cost.shape} does not match marginals a {a.shape}, b {b.shape}")
    if np.any(a <= 0) or np.any(b <= 0):
        raise ValueError("marginals must be strictly positive (log-domain solver); add a small floor")
    if not np.allclose(a.sum(-1), b.sum(-1), rtol=1e-12, atol=1e-14):
        raise ValueError(f"marginals must have equal mass, got {a.sum(-1)} and {b.sum(-1)}")
    return cost, a, b


def _run(method, cost, a, b, *, eta, tol, max_iter, n_sinkhorn, sparsity, cg_tol, cg_max_iter,
         fallback_steps, jacobi, max_backtracks, batched):
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {METHODS}")
    cost, a, b = _check(cost, a, b)
    n, m = cost.shape[-2:]
    with jax.enable_x64(True):
        C, r, c = jnp.asarray(cost), jnp.asarray(a), jnp.asarray(b)
        eta_, tol_ = jnp.float64(eta), jnp.float64(tol)
        t0 = time.perf_counter()
        if method == "sinkhorn":
            fn = _sinkhorn_batch_jit if batched else _sinkhorn_jit
            out = fn(C, r, c, eta_, tol_, max_iter=int(max_iter))
        else:
            fn = _sns_batch_jit if batched else _sns_jit
            cg_max = int(cg_max_iter) if cg_max_iter is not None else 2 * (n + m)
            out = fn(C, r, c, eta_, tol_, jnp.int32(n_sinkhorn), jnp.int32(fallback_steps), jnp.float64(cg_tol),
                     jnp.int32(cg_max), max_iter=int(max_iter), k_keep=newton.num_kept(n, m, sparsity),
                     jacobi=bool(jacobi), max_backtracks=int(max_backtracks))
        out = jax.block_until_ready(out)
        seconds = time.perf_counter() - t0
        plan_fn = jax.vmap(lyapunov.plan, (0, 0, 0, None)) if batched else lyapunov.plan
        err_fn = jax.vmap(lyapunov.marginal_error, (0, 0, 0, 0, 0, None)) if batched else lyapunov.marginal_error
        P = np.asarray(plan_fn(C, out["x"], out["y"], eta_))
        final_err = np.asarray(err_fn(C, r, c, out["x"], out["y"], eta_))
        out = jax.device_get(out)

    def make(i):
        pick = (lambda v: v[i]) if batched else (lambda v: v)
        k = int(pick(out["k"]))
        err = float(pick(final_err))
        return SolveResult(plan=pick(P), x=np.asarray(pick(out["x"])), y=np.asarray(pick(out["y"])),
                           iterations=k, sinkhorn_iterations=int(pick(out["k_sinkhorn"])),
                           newton_iterations=int(pick(out["k_newton"])), cg_iterations=int(pick(out["cg"])),
                           fallbacks=int(pick(out["fallbacks"])), history=np.asarray(pick(out["hist"]))[:k + 1],
                           error=err, converged=bool(float(pick(out["err"])) <= tol), seconds=seconds)

    return [make(i) for i in range(cost.shape[0])] if batched else make(None)


def solve(cost, a, b, *, eta: float, method: str = "sns", tol: float = 1e-10, max_iter: int = 10_000,
          n_sinkhorn: int = 20, sparsity: float | None = None, cg_tol: float = 1e-11, cg_max_iter: int | None = None,
          fallback_steps: int = 10, jacobi: bool = False, max_backtracks: int = 30) -> SolveResult:
    """Solves entropic OT  min <C,P> + (1/eta) sum P log P  s.t. P1 = a, P^T1 = b  in float64.

    Args:
      cost: [n, m] cost matrix C. a: [n], b: [m] positive marginals of equal mass.
      eta: inverse regularisation strength (the paper's eta; POT's reg = 1/eta).
      method: "sns" (Algorithm 1) or "sinkhorn" (log-domain Sinkhorn, Eq. (3)).
      tol: stop when the l1 marginal error <= tol. max_iter: total iteration budget.
      n_sinkhorn: N1, Sinkhorn steps of stage 1. sparsity: lambda (default 2/n), the target sparsity of the
        (n+m) x (n+m) Hessian: at most ceil(lambda (n+m)^2) nonzeros, i.e. 3n entries of P for lambda = 2/n
        and n = m (:func:`newton.num_kept`). cg_tol / cg_max_iter: relative residual and iteration cap of CG
        per Newton step (default cap 2 (n + m); at large eta CG needs more, and a step cut off at the cap
        leaves Newton converging slowly or not at all). fallback_steps: Sinkhorn steps after a stalled
        Newton step.
      jacobi: Jacobi-preconditioned CG (off in the paper's algorithm).
    Returns:
      :class:`SolveResult` with the plan, duals, iteration counts and the marginal-error history.
      ``seconds`` includes compilation on the first call for a new shape/static setting.
    """
    sparsity = 2.0 / np.shape(cost)[0] if sparsity is None else sparsity
    return _run(method, cost, a, b, eta=eta, tol=tol, max_iter=max_iter, n_sinkhorn=n_sinkhorn, sparsity=sparsity,
                cg_tol=cg_tol, cg_max_iter=cg_max_iter, fallback_steps=fallback_steps, jacobi=jacobi,
                max_backtracks=max_backtracks, batched=False)


def solve_batch(costs, a, b, *, eta: float, method: str = "sns", tol: float = 1e-10, max_iter: int = 10_000,
                n_sinkhorn: int = 20, sparsity: float | None = None, cg_tol: float = 1e-11,
                cg_max_iter: int | None = None, fallback_steps: int = 10, jacobi: bool = False,
                max_backtracks: int = 30) -> list[SolveResult]:
    """:func:`solve` for a batch of problems with one ``jax.vmap``: costs [B, n, m], a [B, n], b [B, m]."""
    sparsity = 2.0 / np.shape(costs)[1] if sparsity is None else sparsity
    return _run(method, costs, a, b, eta=eta, tol=tol, max_iter=max_iter, n_sinkhorn=n_sinkhorn, sparsity=sparsity,
                cg_tol=cg_tol, cg_max_iter=cg_max_iter, fallback_steps=fallback_steps, jacobi=jacobi,
                max_backtracks=max_backtracks, batched=True)


@functools.partial(jax.jit, static_argnames=("steps", "k"))
def _sparsity_trace_jit(C, r, c, eta, *, steps, k):
    etaC, log_r, log_c = eta * C, jnp.log(r), jnp.log(c)

    def outside_mass(x, y):
        logP = lyapunov.log_plan(C, x, y, eta)
        kept = logP >= newton.kth_largest_log(logP, k)
        P = jnp.exp(logP)
        return jnp.where(kept, 0.0, P).sum() / P.sum()

    def body(carry, _):
        x, y = lyapunov.sinkhorn_step(etaC, log_r, log_c, *carry, eta)
        return (x, y), outside_mass(x, y)

    n, m = C.shape
    _, eps = jax.lax.scan(body, (jnp.zeros(n, C.dtype), jnp.zeros(m, C.dtype)), None, length=steps)
    return eps


def sparsity_trace(cost, a, b, *, eta: float, steps: int, k: int) -> np.ndarray:
    """epsilon_t for t = 1..steps: the fraction of the mass of the Sinkhorn plan P_t outside its k largest
    entries (the approximate-sparsity measure of paper Def. 1 / Theorem 1). Returns [steps] float64."""
    cost, a, b = _check(cost, a, b)
    with jax.enable_x64(True):
        return np.asarray(_sparsity_trace_jit(jnp.asarray(cost), jnp.asarray(a), jnp.asarray(b), jnp.float64(eta),
                                              steps=int(steps), k=int(k)))
