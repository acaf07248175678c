"""The float64 numerical checks of claims 1 and 2 (run inside ``jax.enable_x64(True)``).

Claim 1 (thesis Section 5.4; Kidger et al. 2021b, Section 3): the reversible Heun solver's backward pass
gives the discretise-then-optimise gradient to round-off, while the backsolve adjoint at the same step size
does not.  Test problems with closed-form gradients:

* linear ODE  dx/dt = A x,  L = |x(T)|^2 / 2:  x(T) = e^{AT} x0,  dL/dx0 = e^{A^T T} x(T),
  dL/dA = [Frechet derivative of expm at AT applied to T E_ij]-contracted (scipy.linalg.expm_frechet).
* linear Stratonovich SDE  dx_i = a_i x_i dt + b_i x_i o dW_i,  L = sum_i x_i(T)^2:
  x_i(T) = x_i(0) exp(a_i T + b_i W_i(T)),  dL/da_i = 2 T x_i(T)^2,  dL/db_i = 2 W_i(T) x_i(T)^2,
  dL/dx_i(0) = 2 x_i(T)^2 / x_i(0).

Claim 2 (thesis Section 5.3.1): backward steps of the continuous adjoint of (augmented) neural ODEs under
the full RMS norm and the state-only seminorm, summed over several random networks, and the difference of
their gradients.
"""
from __future__ import annotations

import functools

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from papers.neural_des import adjoint, models, rand
from papers.neural_des import reversible as rv


# In numpy (exact, like XLA's subtract/abs/max): eager jnp ops would compile one program per shape.
def _max_abs_diff(a, b) -> float:
    return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y))))
               for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def _max_abs(a) -> float:
    return max(float(np.max(np.abs(np.asarray(x)))) for x in jax.tree.leaves(a))


def linear_ode_problem(key, dim: int):
    k1, k2 = rand.split(key)
    a = 0.5 * np.asarray(rand.normal(k1, (dim, dim), jnp.float64))       # (x 0.5 on the host: exact)
    x0 = rand.normal(k2, (dim,), jnp.float64)
    return jax.device_put(a), x0


def linear_ode_closed_form(a, x0, t1: float):
    """(dL/dA, dL/dx0) of L = |e^{A t1} x0|^2 / 2 (numpy float64)."""
    a, x0 = np.asarray(a), np.asarray(x0)
    xT = scipy.linalg.expm(a * t1) @ x0
    n = a.shape[0]
    grad_a = np.zeros_like(a)
    for i in range(n):
        for j in range(n):
            e = np.zeros_like(a)
            e[i, j] = t1
            _, frechet = scipy.linalg.expm_frechet(a * t1, e)
            grad_a[i, j] = xT @ (frechet @ x0)
    return grad_a, scipy.linalg.expm(a.T * t1) @ xT


def linear_ode_gradients(a, x0, t1: float, n_steps: int):
    """Gradients of L = |x(T)|^2/2 by five routes at n_steps fixed steps (all float64).

    reversible: our reversible Heun + exact backward (custom VJP);  dto: autodiff through our forward scan;
    diffrax_dto: autodiff through ``diffrax.ReversibleHeun`` (RecursiveCheckpointAdjoint);
    backsolve: ``diffrax.BacksolveAdjoint`` (continuous adjoint, same solver, same steps);
    closed: the closed form.
    """
    ts = jnp.linspace(0.0, t1, n_steps + 1, dtype=jnp.float64)
    vf = rv.ode_field(lambda p, t, z: p @ z)
    dxs = rv.ode_increments(ts)

    def ours(a, x0, solve):
        return 0.5 * jnp.sum(solve(vf, a, x0, ts, dxs)[-1] ** 2)

    def dfx(a, x0, adj):
        sol = diffrax.diffeqsolve(diffrax.ODETerm(lambda t, y, p: p @ y), diffrax.ReversibleHeun(), 0.0, t1,
                                  t1 / n_steps, x0, args=a, saveat=diffrax.SaveAt(t1=True), adjoint=adj,
                                  stepsize_controller=diffrax.ConstantStepSize(), max_steps=n_steps + 1)
        return 0.5 * jnp.sum(sol.ys[-1] ** 2)

    grad = lambda f, extra: jax.jit(jax.grad(lambda p_, x_: f(p_, x_, extra), argnums=(0, 1)))(a, x0)
    out = {"reversible": grad(ours, rv.reversible_heun), "dto": grad(ours, rv.reversible_heun_scan),
           "diffrax_dto": grad(dfx, diffrax.RecursiveCheckpointAdjoint()),
           "backsolve": grad(dfx, diffrax.BacksolveAdjoint())}
    out["closed"] = tuple(jnp.asarray(g) for g in linear_ode_closed_form(a, x0, t1))
    return out


def linear_sde_problem(key, dim: int):
    k1, k2, k3 = jax.random.split(key, 3)
    a = 0.3 * jax.random.normal(k1, (dim,), jnp.float64)
    b = 0.2 + 0.3 * jax.random.uniform(k2, (dim,), jnp.float64)
    x0 = 0.5 + jax.random.uniform(k3, (dim,), jnp.float64)
    return (a, b), x0


def linear_sde_gradients(params, x0, t1: float, n_steps: int, key):
    """As :func:`linear_ode_gradients` for the geometric Stratonovich SDE, one Brownian sample path.

    The path is a ``diffrax.VirtualBrownianTree`` (tolerance far below the step) shared by every route.
    """
    dim = x0.shape[0]
    bm = diffrax.VirtualBrownianTree(0.0, t1, tol=t1 / (n_steps * 2 ** 8), shape=(dim,), key=key)
    ts = jnp.linspace(0.0, t1, n_steps + 1, dtype=jnp.float64)
    dws = jax.vmap(bm.evaluate)(ts[:-1], ts[1:])
    vf = rv.sde_field(lambda p, t, z: p[0] * z, lambda p, t, z: jnp.diag(p[1] * z))
    dxs = rv.sde_increments(ts, dws)

    def ours(p, x0, solve):
        return jnp.sum(solve(vf, p, x0, ts, dxs)[-1] ** 2)

    def dfx(p, x0, adj):
        terms = diffrax.MultiTerm(diffrax.ODETerm(lambda t, y, p: p[0] * y),
                                  diffrax.ControlTerm(lambda t, y, p: jnp.diag(p[1] * y), bm))
        sol = diffrax.diffeqsolve(terms, diffrax.ReversibleHeun(), 0.0, t1, t1 / n_steps, x0, args=p,
                                  saveat=diffrax.SaveAt(t1=True), adjoint=adj,
                                  stepsize_controller=diffrax.ConstantStepSize(), max_steps=n_steps + 1)
        return jnp.sum(sol.ys[-1] ** 2)

    grad = lambda f, extra: jax.jit(jax.grad(lambda p_, x_: f(p_, x_, extra), argnums=(0, 1)))(params, x0)
    out = {"reversible": grad(ours, rv.reversible_heun), "dto": grad(ours, rv.reversible_heun_scan),
           "diffrax_dto": grad(dfx, diffrax.RecursiveCheckpointAdjoint()),
           "backsolve": grad(dfx, diffrax.BacksolveAdjoint())}
    a, b = params
    wT = bm.evaluate(0.0, t1)
    xT = x0 * jnp.exp(a * t1 + b * wT)
    out["closed"] = ((2 * t1 * xT ** 2, 2 * wT * xT ** 2), 2 * xT ** 2 / x0)
    return out


def gradient_errors(grads) -> dict:
    """Max-abs differences, relative to max |g_dto|: reversible vs dto (ours and diffrax's), backsolve vs dto,
    and each vs the closed form."""
    scale = _max_abs(grads["dto"])
    rel = lambda k, ref: _max_abs_diff(grads[k], grads[ref]) / scale
    return {"reversible_vs_dto": rel("reversible", "dto"),
            "reversible_vs_diffrax_dto": rel("reversible", "diffrax_dto"),
            "dto_vs_diffrax_dto": rel("dto", "diffrax_dto"),
            "backsolve_vs_dto": rel("backsolve", "dto"),
            "reversible_vs_closed": rel("reversible", "closed"),
            "backsolve_vs_closed": rel("backsolve", "closed")}


def run_claim1(cfg, key) -> dict:
    """Claim 1 in float64. Returns {ode_*, sde_*: errors, reconstruction errors}."""
    with jax.enable_x64(True):
        k1, k2, k3 = jax.random.split(jax.random.PRNGKey(np.asarray(key)[-1]), 3)
        a, x0 = linear_ode_problem(k1, cfg.dim)
        ode = gradient_errors(linear_ode_gradients(a, x0, cfg.t1, cfg.n_steps))
        p, s0 = linear_sde_problem(k2, cfg.dim)
        sde = gradient_errors(linear_sde_gradients(p, s0, cfg.t1, cfg.n_steps, k3))
        ts = jnp.linspace(0.0, cfg.t1, cfg.n_steps + 1, dtype=jnp.float64)
        rec = float(rv.reconstruction_error(rv.ode_field(lambda q, t, z: q @ z), a, x0, ts, rv.ode_increments(ts)))
        out = {f"ode_{k}": v for k, v in ode.items()} | {f"sde_{k}": v for k, v in sde.items()}
        out["ode_reconstruction_error"] = rec
        return out


def claim2_problem(seed, i, state_dim: int, width: int, depth: int, augment: int, gain: float):
    """Network i of claim 2 (float64): (params of the augmented neural ODE, augmented z0)."""
    k1, k2 = rand.split(jax.random.fold_in(jax.random.PRNGKey(seed), i))
    params = models.init_neural_ode(k1, state_dim, width, depth, augment, jnp.float64, gain)
    z0 = rand.normal(k2, (state_dim,), jnp.float64)
    return params, jax.device_put(np.concatenate([np.asarray(z0), np.zeros((augment,), np.float64)]))


def run_claim2(cfg, key) -> dict:
    """Claim 2 in float64: ``cfg.n_networks`` augmented neural ODEs at random init, L = |z(T)|^2 / 2.

    Each network is solved with both backward norms (the jitted solves compile once and are reused across
    networks). Returns the total backward steps (attempted, i.e. accepted + rejected) under each norm, the
    per-network savings, and the largest gradient differences (relative to max |grad| of a tight-tolerance
    discretise-then-optimise reference) between the norms and against the reference.
    """
    with jax.enable_x64(True):
        seed = np.asarray(key)[-1]
        f = lambda t, z, th: cfg.scale * models.neural_ode_field(t, z, th)
        loss = lambda z: 0.5 * jnp.sum(z ** 2)
        # One compiled solve for both norms: the norm's parameter-channel weight is a traced argument.
        solve_weighted = jax.jit(lambda th, z, w: adjoint.backsolve_gradient(
            f, loss, th, z, cfg.t1, norm=w, rtol=cfg.rtol, atol=cfg.atol))
        solve = {norm: functools.partial(solve_weighted, w=jnp.float64(w)) for norm, w in adjoint.NORM_WEIGHTS.items()}
        # cfg.reference=False (smoke): no DTO reference solve; the errors against it are then 0 by construction.
        reference = jax.jit(lambda th, z: adjoint.dto_gradient(f, loss, th, z, cfg.t1, rtol=cfg.ref_tol,
                                                               atol=cfg.ref_tol))
        totals = {k: 0 for k in ("backward_steps_full", "backward_steps_seminorm", "backward_rejected_full",
                                 "backward_rejected_seminorm", "forward_steps")}
        diff = 0.0
        savings, err_full, err_semi = [], [], []
        for i in range(cfg.n_networks):
            params, z0 = claim2_problem(seed, i, cfg.state_dim, cfg.width, cfg.depth, cfg.augment, cfg.gain)
            res = {norm: solve[norm](params, z0) for norm in solve}
            ref = reference(params, z0) if cfg.reference else (res["full"]["grad_theta"], res["full"]["grad_z0"])
            grads = {k: (v["grad_theta"], v["grad_z0"]) for k, v in res.items()}
            scale = _max_abs(ref)
            for norm in ("full", "seminorm"):
                totals[f"backward_steps_{norm}"] += int(res[norm]["backward_steps"])
                totals[f"backward_rejected_{norm}"] += int(res[norm]["backward_rejected"])
            totals["forward_steps"] += int(res["full"]["forward_steps"])
            savings.append(1.0 - int(res["seminorm"]["backward_steps"]) / int(res["full"]["backward_steps"]))
            diff = max(diff, _max_abs_diff(grads["full"], grads["seminorm"]) / scale)
            err_full.append(_max_abs_diff(grads["full"], ref) / scale)
            err_semi.append(_max_abs_diff(grads["seminorm"], ref) / scale)
        return totals | {"grad_diff_full_vs_seminorm": diff, "grad_err_full_vs_reference": max(err_full),
                         "grad_err_seminorm_vs_reference": max(err_semi),
                         "grad_err_full_vs_reference_median": float(np.median(err_full)),
                         "grad_err_seminorm_vs_reference_median": float(np.median(err_semi)),
                         "min_saving": min(savings),
                         "max_saving": max(savings), "num_params": sum(x.size for x in jax.tree.leaves(params))}


def _linear_ode_vf(p, t, z):
    return (p @ z)[:, None]          # rv.ode_field(lambda p, t, z: p @ z), one module-level object


@jax.jit
def linear_ode_reversible_check(a, x0, ts):
    """For dx/dt = A x, L = |x(T)|^2 / 2 on the grid ts, in one compiled program: the gradient (dL/dA, dL/dx0)
    by our reversible Heun's exact backward pass, the same by autodiff through the forward scan (DTO), and
    the reconstruction error of z_n from z_N.  Shared by the smoke config's claim 1 and the tests."""
    dxs = rv.ode_increments(ts)
    loss = lambda solve: lambda p, x: 0.5 * jnp.sum(solve(_linear_ode_vf, p, x, ts, dxs)[-1] ** 2)
    g_rev = jax.grad(loss(rv.reversible_heun), (0, 1))(a, x0)
    g_dto = jax.grad(loss(rv.reversible_heun_scan), (0, 1))(a, x0)
    return g_rev, g_dto, rv.reconstruction_error(_linear_ode_vf, a, x0, ts, dxs)


def claim1_ode_problem(seed, dim: int):
    """(A, x0) of :func:`run_claim1`'s linear ODE from the integer seed (float64)."""
    return linear_ode_problem(rand.split(jax.random.PRNGKey(seed), 3)[0], dim)


def run_claim1_ours(cfg, key) -> dict:
    """Claim 1 without the diffrax routes (smoke config): reversible vs our DTO and the closed forms only.

    The ODE half of :func:`run_claim1`; reversible_test runs the same compiled program."""
    with jax.enable_x64(True):
        a, x0 = claim1_ode_problem(np.asarray(key)[-1], cfg.dim)
        g_rev, g_dto, rec = linear_ode_reversible_check(a, x0, np.linspace(0.0, cfg.t1, cfg.n_steps + 1))
        closed = linear_ode_closed_form(a, x0, cfg.t1)
        scale = _max_abs(g_dto)
        return {"ode_reversible_vs_dto": _max_abs_diff(g_rev, g_dto) / scale,
                "ode_reversible_vs_closed": _max_abs_diff(g_rev, closed) / scale,
                "ode_reconstruction_error": float(rec)}
