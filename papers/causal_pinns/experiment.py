"""Train (every problem x method x time window, one resumable work unit each) and evaluate (claims, figures).

Layout of a workdir:
  config.json                      the run's config (a different config in the same workdir is refused)
  reference_<problem>.npz          the reference solution (ETDRK4 / DOP853), computed once
  units/<problem>_<method>_w<k>/   checkpoints, metrics.jsonl, TensorBoard events and, when the window is
                                   finished, result.npz (predictions, histories, initial and hand-over state)
  eval.json, *.png                 written by evaluate
A finished unit is never retrained; a killed unit resumes from its last checkpoint.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from common import checkpoint, claims as claims_lib, metrics as metrics_lib
from papers.causal_pinns import causal, problems, trainer

LORENZ_STATE0 = (1.0, 1.0, 1.0)
PROBLEMS = ("allen_cahn", "kuramoto_sivashinsky", "lorenz")
# Top-level keys a resumed run or an eval may change: checkpoints do not change the state. log_every is not
# one of them (the history arrays of the unit state have max_steps // log_every + 2 rows).
RESUMABLE_KEYS = ("checkpoint_every",)
PAPER_FINAL_EPS_LORENZ = 10.0   # the last eps of the official Lorenz schedule (1e-3 ... 1e1)


# --------------------------------------------------------------------------------------------- config check
def _problem_errors(cfg, pname: str) -> list[str]:
    """The errors of one problem's config block (empty when valid)."""
    errors = []
    if cfg.name != pname:
        errors.append(f"{pname}.name is {cfg.name!r}, expected {pname!r}")
    if pname != "lorenz" and cfg.arch not in trainer.ARCHS:
        errors.append(f"{pname}.arch={cfg.arch!r} is not one of {trainer.ARCHS}")
    eps = tuple(cfg.eps)
    if not eps or min(eps) <= 0 or list(eps) != sorted(eps):
        errors.append(f"{pname}.eps={eps} must be a non-empty increasing list of positive values")
    if cfg.eps_diag <= 0:
        errors.append(f"{pname}.eps_diag={cfg.eps_diag} must be > 0")
    counts = ("steps_per_eps", "check_every", "num_t")
    if pname != "lorenz":
        counts += ("num_x", "num_ic", "diag_every_t")
    for key in counts:
        if int(cfg[key]) < 1:
            errors.append(f"{pname}.{key}={cfg[key]} must be >= 1")
    try:
        causal.time_windows(cfg.t_final, cfg.window)
    except ValueError as e:
        errors.append(f"{pname}: {e}")
    if pname == "lorenz":
        if cfg.eval_dt <= 0:
            errors.append(f"lorenz.eval_dt={cfg.eval_dt} must be > 0")
    else:
        steps = int(round(cfg.t_final / cfg.ref_dt))
        if cfg.ref_num_t < 2 or abs(steps * cfg.ref_dt - cfg.t_final) > 1e-9 or steps % (cfg.ref_num_t - 1):
            errors.append(f"{pname}: t_final / ref_dt = {cfg.t_final / cfg.ref_dt:g} steps must be an integer "
                          f"multiple of ref_num_t - 1 = {cfg.ref_num_t - 1}")
    return errors


def check_config(config) -> None:
    """Raises ValueError naming every error of the config, before any work (train and eval call it first)."""
    errors = []
    names = tuple(config.problems)
    if not names or len(set(names)) != len(names) or not set(names) <= set(PROBLEMS):
        errors.append(f"problems={names} must be distinct names from {PROBLEMS}")
    if sorted(config.methods) != sorted(trainer.METHODS):
        errors.append(f"methods={tuple(config.methods)} must be {trainer.METHODS} (the claims compare both)")
    if not 0.0 < config.delta < 1.0:
        errors.append(f"delta={config.delta} must be in (0, 1)")
    if config.log_every < 1 or config.checkpoint_every < 0:
        errors.append("log_every must be >= 1 and checkpoint_every >= 0")
    for pname in (p for p in PROBLEMS if p in names):
        errors.extend(_problem_errors(config[pname], pname))
    if errors:
        raise ValueError("invalid causal_pinns config:\n  " + "\n  ".join(errors))


def reference(config, workdir: str, pname: str) -> dict:
    """The reference solution of a problem (cached in the workdir): t [T], x [X] (PDEs), u [T, X] or [T, 3]."""
    path = os.path.join(workdir, f"reference_{pname}.npz")
    if os.path.exists(path):
        with np.load(path) as f:
            return dict(f)
    cfg = config[pname]
    if pname == "lorenz":
        t = np.arange(0.0, cfg.t_final - 1e-9, cfg.eval_dt)
        ref = {"t": t, "u": problems.lorenz_reference(np.append(t, cfg.t_final), LORENZ_STATE0)[:-1]}
    else:
        import dataclasses
        spec = dataclasses.replace(problems.spec_by_name(pname), t_final=cfg.t_final)
        t, x, u = problems.pde_reference(spec, cfg.ref_num_x, cfg.ref_dt, cfg.ref_num_t)
        ref = {"t": t, "x": x, "u": u}
    tmp = path + ".tmp.npz"
    np.savez(tmp, **ref)
    os.replace(tmp, path)
    return ref


def window_indices(t: np.ndarray, t0: float, t1: float, last: bool) -> np.ndarray:
    """Indices of reference times in [t0, t1) (or [t0, t1] for the last window)."""
    tol = 1e-9
    hi = t <= t1 + tol if last else t < t1 - tol
    return np.nonzero((t >= t0 - tol) & hi)[0]


def initial_ic(config, pname: str) -> tuple[np.ndarray, float]:
    cfg = config[pname]
    if pname == "lorenz":
        return np.asarray(LORENZ_STATE0, np.float32), 0.0
    spec = problems.spec_by_name(pname)
    x_ic = problems.pde.grid(cfg.num_ic, spec.length, spec.x_min)
    return problems.initial_condition(spec, x_ic).astype(np.float32), 1.0


def unit_name(pname: str, method: str, k: int) -> str:
    return f"{pname}_{method}_w{k:03d}"


def _save_npz(path: str, **arrays) -> None:
    tmp = path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


_COMPILED: dict = {}   # jitted functions per (problem config, delta, log_every): reused by later runs in a process


def run_problem(config, workdir: str, pname: str, method: str) -> None:
    """Trains every window of (problem, method) in order; finished windows are loaded, not retrained."""
    cfg = config[pname]
    ref = reference(config, workdir, pname)
    problem = trainer.make_problem(cfg)
    x_eval = None if pname == "lorenz" else jnp.asarray(ref["x"][:: cfg.diag_every_t], jnp.float32)
    compiled = _COMPILED.setdefault(
        json.dumps([cfg.to_dict(), config.delta, config.log_every, list(config.methods)], sort_keys=True), {})

    def compiled_fns(analytic: bool):
        if (pname, analytic) not in compiled:
            compiled[(pname, analytic)] = (
                trainer.make_train_step(cfg, problem, config.delta, analytic),
                trainer.make_diagnostics(cfg, problem, x_eval, analytic),
                jax.jit(functools.partial(problem.predict, ic_is_analytic=analytic)),
                jax.jit(functools.partial(problem.next_ic, ic_is_analytic=analytic, window=cfg.window)))
        return compiled[(pname, analytic)]

    windows = causal.time_windows(cfg.t_final, cfg.window)
    ic_values, ic_flag = initial_ic(config, pname)
    p_index = ("allen_cahn", "kuramoto_sivashinsky", "lorenz").index(pname)
    for k, (t0, t1) in enumerate(windows):
        name = unit_name(pname, method, k)
        unit_dir = os.path.join(workdir, "units", name)
        result_path = os.path.join(unit_dir, "result.npz")
        if os.path.exists(result_path):
            with np.load(result_path) as f:
                ic_values, ic_flag = f["next_ic"], 0.0
            continue
        idx = window_indices(ref["t"], t0, t1, last=k == len(windows) - 1)
        sub = idx[:: cfg.get("diag_every_t", 1)]
        ref_sub = ref["u"][sub] if pname == "lorenz" else ref["u"][sub][:, :: cfg.diag_every_t]
        analytic = bool(ic_flag) and pname != "lorenz" and cfg.hard_ic   # the analytic u0 enters a hard IC only
        train_step, diag, predict, next_ic_fn = compiled_fns(analytic)
        diag_fn = functools.partial(diag, t_local=jnp.asarray(ref["t"][sub] - t0, jnp.float32),
                                    reference=jnp.asarray(ref_sub, jnp.float32))
        key = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(config.seed), p_index), k)
        state = trainer.init_state(cfg, problem, method, key, ic_values, config.log_every)
        ckpt = checkpoint.Checkpointer(unit_dir, None, save_every=config.checkpoint_every)
        writer = metrics_lib.MetricsWriter(unit_dir)
        state = ckpt.restore_or(state)
        t_start = time.time()
        state = trainer.train_unit(state, train_step, diag_fn, log_every=config.log_every, checkpointer=ckpt,
                                   writer=writer, name=name, max_total=trainer.max_steps(cfg))
        ckpt.close()
        writer.close()
        x_full = None if pname == "lorenz" else jnp.asarray(ref["x"], jnp.float32)
        pred = predict(state.params, state.ic_values, t_local=jnp.asarray(ref["t"][idx] - t0, jnp.float32), x=x_full)
        next_ic = next_ic_fn(state.params, state.ic_values)
        _save_npz(result_path, pred=np.asarray(pred), t=ref["t"][idx], ic=np.asarray(state.ic_values),
                  next_ic=np.asarray(next_ic),
                  hist=np.asarray(state.hist), hist_w=np.asarray(state.hist_w), steps=int(state.step),
                  eps_index=int(state.eps_index), finished=bool(state.finished), seconds=time.time() - t_start)
        ic_values, ic_flag = np.asarray(next_ic), 0.0


def train(config, workdir: str) -> None:
    check_config(config)
    os.makedirs(workdir, exist_ok=True)
    checkpoint.check_or_write_config(workdir, config, ignore=RESUMABLE_KEYS)
    for pname in config.problems:
        for method in config.methods:
            t0 = time.time()
            run_problem(config, workdir, pname, method)
            logging.info("%s / %s finished in %.1f s", pname, method, time.time() - t0)


def train_and_evaluate(config, workdir: str):
    train(config, workdir)
    return evaluate(config, workdir)


# ------------------------------------------------------------------------------------------------ evaluation
def load_results(config, workdir: str, pname: str, method: str) -> dict:
    """Concatenated predictions of all windows and the per-window histories of one (problem, method)."""
    cfg = config[pname]
    windows = causal.time_windows(cfg.t_final, cfg.window)
    preds, hists, hist_ws, steps, finished, eps_index = [], [], [], [], [], []
    for k in range(len(windows)):
        path = os.path.join(workdir, "units", unit_name(pname, method, k), "result.npz")
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} is missing: run the train binary on {workdir} first")
        with np.load(path) as f:
            preds.append(f["pred"])
            keep = ~np.isnan(f["hist"][:, 0])
            order = np.argsort(f["hist"][keep, 0])
            hists.append(f["hist"][keep][order])
            hist_ws.append(f["hist_w"][keep][order])
            steps.append(int(f["steps"]))
            finished.append(bool(f["finished"]))
            eps_index.append(int(f["eps_index"]))
    return {"pred": np.concatenate(preds, 0), "hists": hists, "hist_ws": hist_ws, "steps": steps,
            "finished": finished, "eps_index": eps_index}


def _col(name: str) -> int:
    return trainer.HIST_COLUMNS.index(name)


def criterion_agreement(hists: list[np.ndarray], delta: float, low_error: float) -> dict:
    """Over all logged snapshots: does min_i w_i(eps_diag) > delta coincide with rel. L2 < low_error?"""
    rows = np.concatenate(hists, 0)
    met = rows[:, _col("min_w_diag")] > delta
    low = rows[:, _col("rel_l2")] < low_error
    return {"snapshots": int(rows.shape[0]), "met": int(met.sum()), "met_and_low": int((met & low).sum()),
            "agreement": float(np.mean(met == low)) if rows.size else float("nan"),
            "max_err_when_met": float(rows[met, _col("rel_l2")].max()) if met.any() else float("nan"),
            "min_err_when_not_met": float(rows[~met, _col("rel_l2")].min()) if (~met).any() else float("nan")}


def check_eval_workdir(config, workdir: str) -> None:
    """The config is valid and equals the run's config.json (thresholds cannot change at eval time)."""
    check_config(config)
    if not os.path.exists(os.path.join(workdir, "config.json")):
        raise FileNotFoundError(f"{workdir} holds no run (no config.json): run the train binary first")
    checkpoint.check_or_write_config(workdir, config, ignore=RESUMABLE_KEYS)   # exists: this only compares


def residual_sums(min_w, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """S = sum_{k<N_t} L_r(t_k) from logged min_i w_i = w_{N_t} = exp(-eps S) (Sec. 3; the weights decrease in i),
    and whether S is only a lower bound: min w underflowed to 0 in float32, so eps S > -ln(float32 tiny)."""
    min_w = np.asarray(min_w, np.float64)
    underflow = min_w <= 0.0
    bound = -np.log(np.finfo(np.float32).tiny) / eps
    return np.where(underflow, bound, -np.log(np.where(underflow, 1.0, min_w)) / eps), underflow


def evaluate(config, workdir: str) -> dict:
    check_eval_workdir(config, workdir)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics, claims, figures = {}, [], []
    results, refs = {}, {}
    for pname in config.problems:
        refs[pname] = reference(config, workdir, pname)
        for method in config.methods:
            r = load_results(config, workdir, pname, method)
            results[(pname, method)] = r
            err = causal.relative_l2(r["pred"], refs[pname]["u"])
            metrics[f"{pname}/{method}/rel_l2"] = err
            metrics[f"{pname}/{method}/steps"] = r["steps"]
            metrics[f"{pname}/{method}/finished"] = r["finished"]
            if pname == "lorenz":
                for c, comp in enumerate("xyz"):
                    metrics[f"lorenz/{method}/rel_l2_{comp}"] = causal.relative_l2(r["pred"][:, c], refs[pname]["u"][:, c])
            last = r["hists"][-1][-1] if len(r["hists"][-1]) else np.full(len(trainer.HIST_COLUMNS), np.nan)
            metrics[f"{pname}/{method}/final_min_w_diag_last_window"] = float(last[_col("min_w_diag")])

    ev = config.eval
    if "allen_cahn" in config.problems:
        c_err, v_err = metrics["allen_cahn/causal/rel_l2"], metrics["allen_cahn/vanilla/rel_l2"]
        claims.append(claims_lib.Claim(
            "1_allen_cahn", f"causal rel. L2 < {ev.ac_causal_max} while vanilla (same net, budget) > {ev.ac_vanilla_min}",
            "causal 1.4e-4 (full scale) vs vanilla PINN 0.50",
            f"causal {c_err:.3g} vs vanilla {v_err:.3g}", c_err < ev.ac_causal_max and v_err > ev.ac_vanilla_min))
        figures.append(_plot_field(plt, workdir, "allen_cahn", refs["allen_cahn"], results))
    if "kuramoto_sivashinsky" in config.problems:
        figures.append(_plot_field(plt, workdir, "kuramoto_sivashinsky", refs["kuramoto_sivashinsky"], results))
    if "lorenz" in config.problems:
        c_err, v_err = metrics["lorenz/causal/rel_l2"], metrics["lorenz/vanilla/rel_l2"]
        n_win = len(causal.time_windows(config.lorenz.t_final, config.lorenz.window))
        claims.append(claims_lib.Claim(
            "2_lorenz", f"Lorenz on [0, {config.lorenz.t_final:g}] in {n_win} windows: causal error < "
            f"{ev.lorenz_ratio} x unweighted error",
            "causal tracks the DOP853 solution up to T = 30; unweighted PINN fails",
            f"causal {c_err:.3g} vs unweighted {v_err:.3g} (ratio {c_err / v_err:.2f})", c_err < ev.lorenz_ratio * v_err))
        figures.append(_plot_lorenz(plt, workdir, refs["lorenz"], results))
    if "allen_cahn" in config.problems:
        figures.append(_plot_weights(plt, workdir, results, config))
        ac = criterion_agreement([h for m in config.methods for h in results[("allen_cahn", m)]["hists"]],
                                 config.delta, ev.low_error)
        metrics.update({f"allen_cahn/criterion/{k}": v for k, v in ac.items()})
        for m in config.methods:   # S = sum_k L_r(t_k) at the end, from min w = exp(-eps_diag S)
            h = results[("allen_cahn", m)]["hists"][-1]
            s, lower = residual_sums(h[-1, _col("min_w_diag")], config.allen_cahn.eps_diag)
            metrics[f"allen_cahn/{m}/final_residual_sum"] = float(s)
            metrics[f"allen_cahn/{m}/final_residual_sum_is_lower_bound"] = bool(lower)
    if "lorenz" in config.problems:
        hists = [h for m in config.methods for h in results[("lorenz", m)]["hists"]]
        agree = criterion_agreement(hists, config.delta, ev.low_error)
        metrics.update({f"lorenz/criterion/{k}": v for k, v in agree.items()})
        finals = [float(h[-1, _col("min_w_diag")]) for h in results[("lorenz", "causal")]["hists"]]
        van_met = sum(int(np.sum(h[:, _col("min_w_diag")] > config.delta)) for h in results[("lorenz", "vanilla")]["hists"])
        metrics["lorenz/criterion/causal_final_min_w"] = finals
        metrics["lorenz/criterion/unweighted_snapshots_met"] = van_met
        final_eps = _criterion_at_paper_final_eps(hists, config)
        metrics.update({f"lorenz/criterion/paper_final_eps/{k}": v for k, v in final_eps.items()})
        all_converged = bool(finals) and min(finals) > config.delta
        passed = all_converged and agree["met"] > 0 and agree["max_err_when_met"] < ev.low_error
        claims.append(claims_lib.Claim(
            "3_criterion", f"min_i w_i > {config.delta} (eps = {config.lorenz.eps_diag:g}) coincides with low error: every "
            f"causal Lorenz window ends meeting it (true by construction: it is the stopping rule of training, on "
            f"the same slices), and every logged snapshot (causal or unweighted) that meets it has window "
            f"rel. L2 < {ev.low_error}",
            "min w > 0.99 at the last eps of the schedule is the paper's convergence indicator",
            f"causal windows end at min w = {', '.join(f'{v:.3f}' for v in finals)}; {agree['met']}/{agree['snapshots']} "
            f"snapshots meet it (unweighted: {van_met}), max error among them {agree['max_err_when_met']:.3g}; "
            f"errors of those that do not: min {agree['min_err_when_not_met']:.3g}; at the paper's final "
            f"eps = {final_eps['eps']:g} (residual sum < {final_eps['max_residual_sum']:.2g}) {final_eps['met']} "
            f"snapshots meet it (smallest residual sum {final_eps['min_residual_sum']:.3g})", passed))
        figures.append(_plot_criterion(plt, workdir, results, config))
    return claims_lib.write_eval(workdir, metrics, claims, figures)


def _criterion_at_paper_final_eps(hists: list[np.ndarray], config) -> dict:
    """min w > delta judged at the last eps of the paper's Lorenz schedule, from the logged min w at eps_diag:
    it holds iff the residual sum S < -ln(delta) / eps_final."""
    rows = np.concatenate(hists, 0)
    s, _ = residual_sums(rows[:, _col("min_w_diag")], config.lorenz.eps_diag)
    threshold = -np.log(config.delta) / PAPER_FINAL_EPS_LORENZ
    return {"eps": PAPER_FINAL_EPS_LORENZ, "max_residual_sum": float(threshold), "met": int(np.sum(s < threshold)),
            "min_residual_sum": float(s.min()) if s.size else float("nan")}


def _plot_field(plt, workdir, pname, ref, results) -> str:
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.6))
    ext = [ref["t"][0], ref["t"][-1], ref["x"][0], ref["x"][-1]]
    panels = [("reference (ETDRK4)", ref["u"]), ("causal PINN", results[(pname, "causal")]["pred"]),
              ("vanilla PINN", results[(pname, "vanilla")]["pred"])]
    lim = float(np.abs(ref["u"]).max())
    for ax, (title, u) in zip(axes, panels):
        im = ax.imshow(u.T, extent=ext, origin="lower", aspect="auto", cmap="jet", vmin=-lim, vmax=lim)
        ax.set(title=title, xlabel="t", ylabel="x")
    fig.colorbar(im, ax=axes[2])
    for m in ("causal", "vanilla"):
        e = np.linalg.norm(results[(pname, m)]["pred"] - ref["u"], axis=1) / np.linalg.norm(ref["u"], axis=1)
        axes[3].semilogy(ref["t"], e, label=m)
    axes[3].set(title="rel. L2 error at time t", xlabel="t")
    axes[3].legend()
    fig.tight_layout()
    path = os.path.join(workdir, f"{pname}.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_lorenz(plt, workdir, ref, results) -> str:
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.6))
    for c, ax in enumerate(axes):
        ax.plot(ref["t"], ref["u"][:, c], "k-", lw=2, label="DOP853")
        for m, st in (("causal", "r--"), ("vanilla", "b:")):
            ax.plot(ref["t"], results[("lorenz", m)]["pred"][:, c], st, lw=2, label=m if m == "causal" else "unweighted")
        ax.set(xlabel="t", title="xyz"[c])
    axes[0].legend()
    fig.tight_layout()
    path = os.path.join(workdir, "lorenz.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_weights(plt, workdir, results, config) -> str:
    fig, axes = plt.subplots(1, 3, figsize=(16, 3.8))
    cfg = config.allen_cahn
    t_sl = np.linspace(0.0, cfg.window, cfg.num_t)
    h, hw = results[("allen_cahn", "causal")]["hists"][0], results[("allen_cahn", "causal")]["hist_ws"][0]
    cmap = plt.get_cmap("viridis")
    for i in np.unique(np.linspace(0, len(h) - 1, min(8, len(h))).astype(int)):
        axes[0].plot(t_sl, hw[i], color=cmap(i / max(len(h) - 1, 1)), label=f"step {int(h[i, 0])}")
    axes[0].set(title=f"causal weights w_i (eps = {cfg.eps_diag:g}) over training", xlabel="t_i", ylabel="w_i")
    axes[0].legend(fontsize=7)
    for m, st in (("causal", "r"), ("vanilla", "b")):
        hh = results[("allen_cahn", m)]["hists"][0]
        axes[1].plot(hh[:, 0], hh[:, _col("min_w_diag")], st, label=m)
        axes[2].semilogy(hh[:, 0], hh[:, _col("rel_l2")], st, label=m)
    axes[1].axhline(config.delta, color="k", ls="--", label="delta")
    axes[1].set(title="min_i w_i", xlabel="step")
    axes[2].axhline(config.eval.low_error, color="k", ls="--")
    axes[2].set(title="rel. L2 error", xlabel="step")
    axes[1].legend()
    axes[2].legend()
    fig.tight_layout()
    path = os.path.join(workdir, "causal_weights.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_criterion(plt, workdir, results, config) -> str:
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for m, st in (("causal", "r"), ("vanilla", "b")):
        for k, h in enumerate(results[("lorenz", m)]["hists"]):
            lab = (m if m == "causal" else "unweighted") + f" window {k}"
            ls = "-" if k == 0 else "--"
            axes[0].plot(h[:, 0], h[:, _col("min_w_diag")], st + ls, label=lab)
            axes[1].semilogy(h[:, 0], h[:, _col("rel_l2")], st + ls, label=lab)
    axes[0].axhline(config.delta, color="k", ls=":")
    axes[0].set(title=f"Lorenz: min_i w_i (eps = {config.lorenz.eps_diag:g})", xlabel="step")
    axes[1].axhline(config.eval.low_error, color="k", ls=":")
    axes[1].set(title="Lorenz: window rel. L2 error", xlabel="step")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    path = os.path.join(workdir, "lorenz_criterion.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
