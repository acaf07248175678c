"""DPM-Solver-1/2/3, the fast (order-mixing) mode, adaptive DPM-Solver-12/23 and the public ``sample``.

Notation (paper, Sec. 3): the diffusion ODE in lambda has the exact solution (Eq. (3.4))
    x_t = (alpha_t / alpha_s) x_s - alpha_t int_{lambda_s}^{lambda_t} e^{-lambda} eps(x_lambda, lambda) dlambda.
With h = lambda_t - lambda_s and phi_1(h) = e^h - 1:
  * DPM-Solver-1 (Eq. (3.7), = DDIM):  x_t = (alpha_t/alpha_s) x_s - sigma_t (e^h - 1) eps(x_s, s).
  * DPM-Solver-2 (Algorithm 4 with r1; Algorithm 1 for r1 = 1/2):
        s1 = t(lambda_s + r1 h),  u = (alpha_s1/alpha_s) x_s - sigma_s1 (e^{r1 h} - 1) eps(x_s, s)
        x_t = (alpha_t/alpha_s) x_s - sigma_t (e^h - 1) eps_s - sigma_t/(2 r1) (e^h - 1) (eps(u, s1) - eps_s).
  * DPM-Solver-3 (Algorithm 2, r1 = 1/3, r2 = 2/3):
        u1 = (alpha_s1/alpha_s) x_s - sigma_s1 (e^{r1 h} - 1) eps_s,          D1 = eps(u1, s1) - eps_s
        u2 = (alpha_s2/alpha_s) x_s - sigma_s2 (e^{r2 h} - 1) eps_s
             - sigma_s2 r2/r1 ((e^{r2 h} - 1)/(r2 h) - 1) D1,                 D2 = eps(u2, s2) - eps_s
        x_t = (alpha_t/alpha_s) x_s - sigma_t (e^h - 1) eps_s - sigma_t/r2 ((e^h - 1)/h - 1) D2.

A noise-prediction function has the signature ``eps_fn(x, t) -> eps`` with x [B, ...] and t a
scalar array (the continuous time); it returns an array shaped like x.
Times are handed around as scalar arrays of x's dtype; all loops are ``lax`` loops, so a sampler
compiles once per (method, order) and, with :func:`integrate_grid`, once for every NFE.
"""
from __future__ import annotations

import functools
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from papers.dpm_solver.schedules import VPSchedule

EpsFn = Callable[[jnp.ndarray, jnp.ndarray], jnp.ndarray]
SKIP_TYPES = ("logSNR", "time_uniform", "time_quadratic")
METHODS = ("singlestep", "singlestep_fixed", "adaptive", "ddim", "euler_ode", "euler_maruyama", "reference")

# Paper defaults (Sec. 3.3, Appendix; official code): intermediate points and adaptive tolerances.
R1_ORDER2 = 0.5
R1_ORDER3, R2_ORDER3 = 1.0 / 3.0, 2.0 / 3.0
ADAPTIVE_DEFAULTS = dict(atol=0.0078, rtol=0.05, h_init=0.05, theta=0.9, t_err=1e-5)


# ------------------------------------------------------------------ single updates

def dpm_solver_1_update(eps_fn: EpsFn, schedule: VPSchedule, x, s, t, eps_s=None):
    """DPM-Solver-1 (= DDIM) from s to t, Eq. (3.7). Returns (x_t, {'eps_s'}); 1 NFE (0 if eps_s given)."""
    lam_s, lam_t = schedule.lambda_(s), schedule.lambda_(t)
    h = lam_t - lam_s
    if eps_s is None:
        eps_s = eps_fn(x, s)
    x_t = jnp.exp(schedule.log_alpha(t) - schedule.log_alpha(s)) * x - schedule.sigma(t) * jnp.expm1(h) * eps_s
    return x_t, {"eps_s": eps_s}


def dpm_solver_2_update(eps_fn: EpsFn, schedule: VPSchedule, x, s, t, r1=R1_ORDER2, eps_s=None):
    """Singlestep DPM-Solver-2 from s to t (Algorithm 4 of the appendix; r1 = 1/2 is Algorithm 1).

    Returns (x_t, {'eps_s', 'eps_s1'}); 2 NFE (1 if eps_s given).
    """
    lam_s, lam_t = schedule.lambda_(s), schedule.lambda_(t)
    h = lam_t - lam_s
    s1 = schedule.inverse_lambda(lam_s + r1 * h)
    la_s, la_s1, la_t = schedule.log_alpha(s), schedule.log_alpha(s1), schedule.log_alpha(t)
    sig_s1, sig_t = schedule.sigma(s1), schedule.sigma(t)
    if eps_s is None:
        eps_s = eps_fn(x, s)
    u = jnp.exp(la_s1 - la_s) * x - sig_s1 * jnp.expm1(r1 * h) * eps_s          # Algorithm 1, line 4
    eps_s1 = eps_fn(u, s1)
    phi_1 = jnp.expm1(h)
    x_t = (jnp.exp(la_t - la_s) * x - sig_t * phi_1 * eps_s
           - (0.5 / r1) * sig_t * phi_1 * (eps_s1 - eps_s))                    # Algorithm 1, line 5
    return x_t, {"eps_s": eps_s, "eps_s1": eps_s1}


def dpm_solver_3_update(eps_fn: EpsFn, schedule: VPSchedule, x, s, t, r1=R1_ORDER3, r2=R2_ORDER3,
                        eps_s=None, eps_s1=None):
    """Singlestep DPM-Solver-3 from s to t (Algorithm 2). Returns (x_t, {...}); 3 NFE minus reused ones.

    ``eps_s1`` may be reused only if it was evaluated at the same s1 = t(lambda_s + r1 h) from the
    DPM-Solver-1 predictor u1 (as the lower-order DPM-Solver-2 of the adaptive 23 pair does).
    """
    lam_s, lam_t = schedule.lambda_(s), schedule.lambda_(t)
    h = lam_t - lam_s
    s1 = schedule.inverse_lambda(lam_s + r1 * h)
    s2 = schedule.inverse_lambda(lam_s + r2 * h)
    la_s, la_s1, la_s2, la_t = (schedule.log_alpha(v) for v in (s, s1, s2, t))
    sig_s1, sig_s2, sig_t = schedule.sigma(s1), schedule.sigma(s2), schedule.sigma(t)
    if eps_s is None:
        eps_s = eps_fn(x, s)
    if eps_s1 is None:
        u1 = jnp.exp(la_s1 - la_s) * x - sig_s1 * jnp.expm1(r1 * h) * eps_s       # Algorithm 2, line 5
        eps_s1 = eps_fn(u1, s1)
    d1 = eps_s1 - eps_s                                                          # line 6
    phi_22 = jnp.expm1(r2 * h) / (r2 * h) - 1.0
    u2 = (jnp.exp(la_s2 - la_s) * x - sig_s2 * jnp.expm1(r2 * h) * eps_s
          - (r2 / r1) * sig_s2 * phi_22 * d1)                                   # line 7
    eps_s2 = eps_fn(u2, s2)
    d2 = eps_s2 - eps_s                                                          # line 8
    phi_2 = jnp.expm1(h) / h - 1.0
    x_t = jnp.exp(la_t - la_s) * x - sig_t * jnp.expm1(h) * eps_s - (1.0 / r2) * sig_t * phi_2 * d2   # line 9
    return x_t, {"eps_s": eps_s, "eps_s1": eps_s1, "eps_s2": eps_s2}


def dpm_solver_update(eps_fn: EpsFn, schedule: VPSchedule, x, s, t, order: int, r1=None, r2=None):
    """Singlestep DPM-Solver-``order`` (1, 2 or 3) from s to t; NFE = order."""
    if order == 1:
        return dpm_solver_1_update(eps_fn, schedule, x, s, t)[0]
    if order == 2:
        return dpm_solver_2_update(eps_fn, schedule, x, s, t, r1=R1_ORDER2 if r1 is None else r1)[0]
    if order == 3:
        return dpm_solver_3_update(eps_fn, schedule, x, s, t, r1=R1_ORDER3 if r1 is None else r1,
                                   r2=R2_ORDER3 if r2 is None else r2)[0]
    raise ValueError(f"order must be 1, 2 or 3, got {order}")


# ------------------------------------------------------------------ time grids

@functools.partial(jax.jit, static_argnums=(0, 1, 4, 5))
def time_steps(schedule: VPSchedule, skip_type: str, t_T, t_0, n: int, dtype=jnp.float32):
    """n + 1 times from t_T down to t_0: uniform in lambda ('logSNR', the paper's choice), in t, or in sqrt(t).

    Compiled once per (schedule, skip_type, n, dtype): run op by op, every new n would compile each of its
    operations separately (seconds for a sweep over NFE)."""
    t_T, t_0 = jnp.asarray(t_T, dtype), jnp.asarray(t_0, dtype)
    u = jnp.linspace(0.0, 1.0, n + 1, dtype=dtype)
    if skip_type == "logSNR":
        lam_T, lam_0 = schedule.lambda_(t_T), schedule.lambda_(t_0)
        return schedule.inverse_lambda(lam_T + u * (lam_0 - lam_T))
    if skip_type == "time_uniform":
        return t_T + u * (t_0 - t_T)
    if skip_type == "time_quadratic":
        return (jnp.sqrt(t_T) + u * (jnp.sqrt(t_0) - jnp.sqrt(t_T))) ** 2
    raise ValueError(f"unknown skip_type {skip_type!r}; choose from {SKIP_TYPES}")


def fast_orders(nfe: int, order: int) -> list[int]:
    """Orders of the steps of DPM-Solver-fast (Sec. 3.3 / Appendix): use exactly ``nfe`` evaluations.

    order 3: K = nfe // 3 + 1 steps; nfe % 3 == 0: [3]*(K-2) + [2, 1]; == 1: [3]*(K-1) + [1];
    == 2: [3]*(K-1) + [2].  order 2: [2]*(nfe//2) (+ [1] if odd).  order 1: [1]*nfe.
    """
    if nfe < 1:
        raise ValueError(f"nfe must be >= 1, got {nfe}")
    if order == 3:
        k = nfe // 3 + 1
        if nfe % 3 == 0:
            return [3] * (k - 2) + [2, 1]
        return [3] * (k - 1) + ([1] if nfe % 3 == 1 else [2])
    if order == 2:
        return [2] * (nfe // 2) + [1] * (nfe % 2)
    if order == 1:
        return [1] * nfe
    raise ValueError(f"order must be 1, 2 or 3, got {order}")


def outer_grid(schedule: VPSchedule, orders: Sequence[int], skip_type: str, t_T, t_0, dtype=jnp.float32):
    """The K + 1 step boundaries for the step orders: uniform over K steps for 'logSNR' (the paper),
    else the nfe-point grid subsampled at the cumulative orders (official code's convention)."""
    if skip_type == "logSNR":
        return time_steps(schedule, skip_type, t_T, t_0, len(orders), dtype)
    fine = time_steps(schedule, skip_type, t_T, t_0, int(sum(orders)), dtype)
    return fine[np.cumsum([0] + list(orders))]


# ------------------------------------------------------------------ fixed-grid integration

def integrate_grid(eps_fn: EpsFn, schedule: VPSchedule, x, grid, orders, num_steps=None,
                   r1: float | None = None, r2: float | None = None):
    """Runs singlestep DPM-Solver steps i = 0..num_steps-1 from grid[i] to grid[i+1] with orders[i].

    grid: [L + 1] times, orders: [L] int in {1, 2, 3}; num_steps (may be traced) <= L lets one
    compiled function serve every NFE when the arrays are padded. Returns x at grid[num_steps].
    r1, r2 default to the paper's (1/2 for order 2; 1/3, 2/3 for order 3).
    """
    grid = jnp.asarray(grid, x.dtype)
    orders = jnp.asarray(orders, jnp.int32)
    n = orders.shape[0] if num_steps is None else num_steps
    branches = [functools.partial(lambda o, x, s, t: dpm_solver_update(eps_fn, schedule, x, s, t, o, r1, r2), o)
                for o in (1, 2, 3)]

    def body(i, x):
        return jax.lax.switch(jnp.clip(orders[i] - 1, 0, 2), branches, x, grid[i], grid[i + 1])

    return jax.lax.fori_loop(0, n, body, x)


def denoise_final(eps_fn: EpsFn, schedule: VPSchedule, x, t_0):
    """The optional final denoising step x_0 = (x - sigma eps(x, t_0)) / alpha (1 NFE)."""
    t_0 = jnp.asarray(t_0, x.dtype)
    return (x - schedule.sigma(t_0) * eps_fn(x, t_0)) / schedule.alpha(t_0)


# ------------------------------------------------------------------ adaptive step size

def dpm_solver_adaptive(eps_fn: EpsFn, schedule: VPSchedule, x, order: int, t_T, t_0, *,
                        atol=ADAPTIVE_DEFAULTS["atol"], rtol=ADAPTIVE_DEFAULTS["rtol"],
                        h_init=ADAPTIVE_DEFAULTS["h_init"], theta=ADAPTIVE_DEFAULTS["theta"],
                        t_err=ADAPTIVE_DEFAULTS["t_err"], max_trials: int = 100_000):
    """Adaptive DPM-Solver-12 (order=2) or -23 (order=3) (Appendix, Algorithm 5).

    Each trial step of size h in lambda computes a lower-order x_low (DPM-Solver-1, or DPM-Solver-2
    with r1 = 1/3) and a higher-order x_high (DPM-Solver-2 with r1 = 1/2, or DPM-Solver-3) that reuses
    the lower one's evaluations, so a trial costs ``order`` NFE. With
    delta = max(atol, rtol max(|x_low|, |x_prev|)) and E = max over the batch of
    ||(x_high - x_low) / delta||_2 / sqrt(d), the step is accepted if E <= 1 (x <- x_high), and
    h <- min(theta h E^{-1/order}, lambda_0 - lambda_s). Stops when |s - t_0| <= t_err (finished), and
    also, unfinished, when h is no longer a finite positive number (a non-finite error estimate or x) or
    after ``max_trials`` trial steps.

    Returns (x_0, info) with info = {'nfe', 'accepted', 'rejected', 'trials'} (int32 arrays),
    'finished' (bool: t_0 was reached) and 't_reached' (the last accepted time). Check 'finished'
    (:func:`check_adaptive_finished`; :func:`sample` does): an unfinished x is not a sample at t_0.
    """
    dtype = x.dtype
    t_T, t_0 = jnp.asarray(t_T, dtype), jnp.asarray(t_0, dtype)
    lam_0 = schedule.lambda_(t_0)
    if order == 2:
        def lower(x, s, t):
            return dpm_solver_1_update(eps_fn, schedule, x, s, t)

        def higher(x, s, t, aux):
            return dpm_solver_2_update(eps_fn, schedule, x, s, t, r1=R1_ORDER2, eps_s=aux["eps_s"])[0]
    elif order == 3:
        def lower(x, s, t):
            return dpm_solver_2_update(eps_fn, schedule, x, s, t, r1=R1_ORDER3)

        def higher(x, s, t, aux):
            return dpm_solver_3_update(eps_fn, schedule, x, s, t, r1=R1_ORDER3, r2=R2_ORDER3,
                                       eps_s=aux["eps_s"], eps_s1=aux["eps_s1"])[0]
    else:
        raise ValueError(f"adaptive DPM-Solver needs order 2 (DPM-Solver-12) or 3 (DPM-Solver-23), got {order}")

    def rms_per_sample(v):
        return jnp.sqrt(jnp.mean(jnp.square(v.reshape(v.shape[0], -1)), axis=-1))

    def body(state):
        x, x_prev, s, lam_s, h, nfe, acc, rej, trials = state
        lam_t = lam_s + h
        t = schedule.inverse_lambda(lam_t)
        x_low, aux = lower(x, s, t)
        x_high = higher(x, s, t, aux)
        delta = jnp.maximum(atol, rtol * jnp.maximum(jnp.abs(x_low), jnp.abs(x_prev)))
        err = jnp.max(rms_per_sample((x_high - x_low) / delta))
        ok = err <= 1.0
        x, x_prev = jnp.where(ok, x_high, x), jnp.where(ok, x_low, x_prev)
        s, lam_s = jnp.where(ok, t, s), jnp.where(ok, lam_t, lam_s)
        h = jnp.minimum(theta * h * jnp.power(err, -1.0 / order), lam_0 - lam_s)
        return (x, x_prev, s, lam_s, h, nfe + order, acc + ok.astype(jnp.int32),
                rej + (~ok).astype(jnp.int32), trials + 1)

    def finished(s):
        return jnp.abs(s - t_0) <= t_err

    def cond(state):
        s, h, trials = state[2], state[4], state[8]
        step_ok = jnp.isfinite(h) & (h > 0)          # a NaN/inf error estimate makes h NaN or 0
        return ~finished(s) & step_ok & (trials < max_trials)

    zero = jnp.zeros((), jnp.int32)
    init = (x, x, t_T, schedule.lambda_(t_T), jnp.asarray(h_init, dtype), zero, zero, zero, zero)
    x, _, s, _, _, nfe, acc, rej, trials = jax.lax.while_loop(cond, body, init)
    return x, {"nfe": nfe, "accepted": acc, "rejected": rej, "trials": trials,
               "finished": finished(s), "t_reached": s}


def check_adaptive_finished(info: dict, t_0) -> None:
    """Raises RuntimeError if the adaptive solver stopped before t_0 (non-finite step, or max_trials).

    ``info`` must hold concrete values (call it outside ``jit``)."""
    if not bool(info["finished"]):
        raise RuntimeError(
            f"adaptive DPM-Solver stopped at t = {float(info['t_reached']):.6g} before t_end = {float(t_0):.6g} "
            f"after {int(info['trials'])} trial steps ({int(info['accepted'])} accepted): the error estimate or "
            "the step became non-finite (NaN/inf in the noise prediction or x), or max_trials was reached")


# ------------------------------------------------------------------ public entry point

def sample(noise_pred_fn: EpsFn, x_T, schedule: VPSchedule, *, nfe: int = 20, order: int = 3,
           method: str = "singlestep", skip_type: str = "logSNR", t_start=None, t_end: float = 1e-3,
           denoise: bool = False, r1: float | None = None, r2: float | None = None,
           atol: float = ADAPTIVE_DEFAULTS["atol"], rtol: float = ADAPTIVE_DEFAULTS["rtol"],
           key: jax.Array | None = None, ref_rtol: float = 1e-9, ref_atol: float = 1e-9,
           max_trials: int = 100_000):
    """Samples x_0 from x_T [B, ...] by solving the diffusion ODE (or SDE) from t_start (default T) to t_end.

    method:
      'singlestep'       DPM-Solver-fast: orders <= ``order`` mixed to use exactly ``nfe`` (Sec. 3.3);
      'singlestep_fixed' DPM-Solver-``order`` with nfe // order steps;
      'ddim'             DPM-Solver-1 with nfe steps (same as order=1);
      'adaptive'         DPM-Solver-12 (order 2) / -23 (order 3), ``nfe`` ignored; RuntimeError if it stops
                         before t_end (non-finite error estimate, or ``max_trials`` trial steps); under
                         ``jit`` such a result is NaN instead;
      'euler_ode'        Euler on the probability-flow ODE in t (baseline), nfe steps;
      'euler_maruyama'   Euler-Maruyama on the reverse SDE (baseline, needs ``key``), nfe steps;
      'reference'        diffrax Tsit5 at rtol/atol ``ref_rtol``/``ref_atol`` in lambda (NFE counted).
    skip_type: 'logSNR' (uniform lambda, the paper's), 'time_uniform', 'time_quadratic'.
    denoise: add the final denoising step (+1 NFE).

    Returns (x_0, nfe_used); nfe_used is a Python int for fixed grids and an int32 array otherwise.
    """
    from papers.dpm_solver import baselines  # local import: baselines imports this module
    dtype = x_T.dtype
    t_T = schedule.T if t_start is None else t_start
    used = None
    if method == "adaptive":
        x, info = dpm_solver_adaptive(noise_pred_fn, schedule, x_T, order, t_T, t_end, atol=atol, rtol=rtol,
                                      max_trials=max_trials)
        if isinstance(info["finished"], jax.core.Tracer):      # under jit: an unfinished solve returns NaN
            x = jnp.where(info["finished"], x, jnp.nan)
        else:
            check_adaptive_finished(info, t_end)
        used = info["nfe"]
    elif method in ("singlestep", "singlestep_fixed", "ddim"):
        if method == "ddim":
            orders = [1] * nfe
        elif method == "singlestep":
            orders = fast_orders(nfe, order)
        else:
            if nfe < order:
                raise ValueError(f"singlestep_fixed needs nfe >= order, got nfe={nfe}, order={order}")
            orders = [order] * (nfe // order)
        grid = outer_grid(schedule, orders, skip_type, t_T, t_end, dtype)
        x = integrate_grid(noise_pred_fn, schedule, x_T, grid, np.asarray(orders), r1=r1, r2=r2)
        used = int(sum(orders))
    elif method == "euler_ode":
        grid = time_steps(schedule, skip_type, t_T, t_end, nfe, dtype)
        x = baselines.euler_ode(noise_pred_fn, schedule, x_T, grid)
        used = nfe
    elif method == "euler_maruyama":
        if key is None:
            raise ValueError("method 'euler_maruyama' needs a PRNG key")
        grid = time_steps(schedule, skip_type, t_T, t_end, nfe, dtype)
        x = baselines.euler_maruyama(noise_pred_fn, schedule, x_T, grid, key)
        used = nfe
    elif method == "reference":
        x, used = baselines.reference_ode(noise_pred_fn, schedule, x_T, t_T, t_end, rtol=ref_rtol, atol=ref_atol)
    else:
        raise ValueError(f"unknown method {method!r}; choose from {METHODS}")
    if denoise:
        x = denoise_final(noise_pred_fn, schedule, x, t_end)
        used = used + 1
    return x, used
