"""train_and_evaluate / evaluate of the Learning-to-Relax reproduction.

"Training" runs a list of work units and checkpoints the state after each one (a killed run resumes at
the next unit; a second run on a finished workdir does nothing):

* ``young_check``: SOR and SSOR-PCG iteration counts over the omega grid for a few fixed shifts c
  (averaged over right-hand sides), next to Young's omega*(c).
* ``<dist>/<trial>``: one sequence of T instances from the context distribution ``dist``: the [T, K]
  SOR cost table of the grid, the cost of the instance-optimal omega*(c_t), and the arms that
  Tsallis-INF and ChebCB chose (each reads only the costs of the arms it played).
* ``heat`` (when ``heat.run``): the heat-equation sequence (heat.py): its [T, K] SOR cost table (each solve
  warm-started from the previous state), omega*(c_t), and the arms of ``heat.trials`` runs of each learner
  (ChebCB's context: the diffusion coefficient).

``evaluate`` reads the state, computes the baselines (Gauss-Seidel = omega 1, best fixed omega in
hindsight, instance-optimal omega), the claims and the figures.
"""
from __future__ import annotations

import os

import flax
import jax
import jax.numpy as jnp
import numpy as np

from common import claims as claims_lib
from common import distributed
from common import training
from common import config as config_lib
from papers.learning_to_relax import heat, instances, learners

HEAT_STREAM = 7          # the heat unit's learner seeds: [seed, HEAT_STREAM, trial, learner]


@flax.struct.dataclass
class ExperimentState:
    step: jax.Array          # number of finished work units
    results: dict            # unit name -> dict of arrays


def unit_names(config) -> list[str]:
    names = ["young_check"] + [f"{d}/{i}" for d in config.distributions for i in range(config.trials)]
    return names + (["heat"] if config.heat.run else [])


def config_problems(config) -> list[str]:
    """Values that parse but that this experiment cannot run or evaluate (empty list: the config is usable)."""
    bad = []
    dists = list(config.distributions)
    if not dists or len(set(dists)) != len(dists):
        bad.append(f"distributions={tuple(dists)} must be a non-empty tuple of distinct names")
    for d in dists:
        if d not in config.context or len(tuple(config.context[d])) != 2:
            bad.append(f"distribution {d!r} has no (a, b) Beta parameters context.{d}; known: 'high', 'low'")
    if config.chebcb.distribution not in dists:
        bad.append(f"chebcb.distribution={config.chebcb.distribution!r} is not one of distributions={tuple(dists)}")
    if config.grid.arms < 2:
        bad.append(f"grid.arms={config.grid.arms} must be >= 2 (claim 1 compares with one grid step)")
    counts = {"trials": config.trials, "m": config.m,
              "maxiter": config.maxiter, "chunk": config.chunk, "chebcb.m": config.chebcb.m,
              "young_check.shifts": config.young_check.shifts, "young_check.rhs": config.young_check.rhs}
    bad += [f"{k} must be >= 1, got {v}" for k, v in counts.items() if v < 1]
    if config.T < 5:
        bad.append(f"T={config.T} must be >= 5 (regret at T/4 and the last fifth of the sequence)")
    if not 0 < config.grid.lo < config.grid.hi < 2:
        bad.append(f"grid [{config.grid.lo}, {config.grid.hi}] must satisfy 0 < lo < hi < 2 (SOR converges for 0 < omega < 2)")
    if not config.chebcb.lo < config.chebcb.hi:
        bad.append(f"chebcb.lo={config.chebcb.lo} must be < chebcb.hi={config.chebcb.hi}")
    lam_min = 4.0 * (1.0 - np.cos(np.pi / (config.m + 1)))       # smallest eigenvalue of the grid Laplacian
    if config.context.offset <= -lam_min or config.context.width <= 0:
        bad.append(f"context.offset={config.context.offset} must be > -{lam_min:.4f} (L + c I positive definite) "
                   f"and context.width={config.context.width} > 0")
    if not config.tol > 0:
        bad.append(f"tol={config.tol} must be > 0")
    if config.heat.run:
        h = config.heat
        if h.nx < 2 or h.T < 1 or h.trials < 1 or not h.stoptime > 0:
            bad.append(f"heat: nx={h.nx} >= 2, T={h.T} >= 1, trials={h.trials} >= 1 and stoptime={h.stoptime} > 0 needed")
        elif len(heat.degenerate_steps(h.T, h.stoptime)):
            bad.append(f"heat: a step midpoint of T={h.T} steps over [0, {h.stoptime}] hits kappa = 0 "
                       "(A = I, no shifted Laplacian); choose another heat.T")
    return bad


def check_config(config) -> None:
    """Raises ConfigError naming every unusable value, before any work (nothing is written)."""
    config_lib.raise_if_invalid(config_problems(config), "learning_to_relax")


def grid_of(config) -> np.ndarray:
    return instances.omega_grid(config.grid.lo, config.grid.hi, config.grid.arms)


def check_shifts(config) -> np.ndarray:
    c = config.context
    return np.linspace(c.offset, c.offset + c.width, config.young_check.shifts)


def initial_state(config) -> ExperimentState:
    K, T, S = config.grid.arms, config.T, config.young_check.shifts
    results = {"young_check": {"sor": jnp.zeros((S, K)), "pcg": jnp.zeros((S, K)), "sor_young": jnp.zeros((S,))}}
    for name in unit_names(config)[1:]:
        results[name] = {"shifts": jnp.zeros((T,)), "costs": jnp.zeros((T, K), jnp.int32),
                         "young_costs": jnp.zeros((T,), jnp.int32), "tsallis_arms": jnp.zeros((T,), jnp.int32),
                         "cheb_arms": jnp.zeros((T,), jnp.int32)}
    if config.heat.run:
        Th, R = config.heat.T, config.heat.trials
        results["heat"] = {"kappa": jnp.zeros((Th,)), "shifts": jnp.zeros((Th,)), "costs": jnp.zeros((Th, K), jnp.int32),
                           "young_costs": jnp.zeros((Th,), jnp.int32), "tsallis_arms": jnp.zeros((R, Th), jnp.int32),
                           "cheb_arms": jnp.zeros((R, Th), jnp.int32)}
    return ExperimentState(step=jnp.asarray(0, jnp.int32), results=results)


def _solver_kw(config) -> dict:
    return dict(tol=config.tol, maxiter=config.maxiter, chunk=config.chunk)


def run_young_check(config) -> dict:
    """Mean SOR / SSOR-PCG iterations over ``rhs`` right-hand sides for each check shift and arm."""
    m, grid, shifts = config.m, grid_of(config), check_shifts(config)
    R, S, K = config.young_check.rhs, len(shifts), len(grid)
    rhs = instances.sample_rhs(np.random.default_rng([config.seed, 99]), R, m * m)
    b = np.tile(np.repeat(rhs, K, axis=0), (S, 1))
    c = np.repeat(shifts, R * K)
    w = np.tile(grid, S * R)
    out = {}
    for solver in ("sor", "pcg"):
        it = instances.iteration_counts(b, c, w, solver="sor" if solver == "sor" else "ssor_pcg", **_solver_kw(config))
        out[solver] = jnp.asarray(it.reshape(S, R, K).mean(axis=1), jnp.float64)
    young = instances.young_omegas(m, shifts)
    it = instances.iteration_counts(np.tile(rhs, (S, 1)), np.repeat(shifts, R), np.repeat(young, R),
                                    **_solver_kw(config))
    out["sor_young"] = jnp.asarray(it.reshape(S, R).mean(axis=1), jnp.float64)
    return out


def run_sequence(config, dist: str, trial: int) -> dict:
    """One sequence of T instances: cost table, instance-optimal costs and both learners' choices."""
    d_idx = list(config.distributions).index(dist)
    a, b = config.context[dist]
    rng = np.random.default_rng([config.seed, d_idx, trial])
    shifts = instances.sample_shifts(rng, config.T, a, b, config.context.offset, config.context.width)
    rhs = instances.sample_rhs(rng, config.T, config.m * config.m)
    table = instances.cost_table(rhs, shifts, grid_of(config), instances.young_omegas(config.m, shifts),
                                 **_solver_kw(config))
    costs, young = table[:, :-1], table[:, -1]
    ts = learners.run_tsallis_inf(costs, np.random.default_rng([config.seed, d_idx, trial, 1]))
    cb = learners.run_chebcb(costs, shifts, np.random.default_rng([config.seed, d_idx, trial, 2]),
                             m=config.chebcb.m, lo=config.chebcb.lo, hi=config.chebcb.hi)
    return {"shifts": jnp.asarray(shifts, jnp.float64), "costs": jnp.asarray(costs, jnp.int32),
            "young_costs": jnp.asarray(young, jnp.int32), "tsallis_arms": jnp.asarray(ts, jnp.int32),
            "cheb_arms": jnp.asarray(cb, jnp.int32)}


def run_heat(config) -> dict:
    """The heat-equation sequence: SOR cost table (warm starts), omega*(c_t) costs, both learners' arms."""
    h = config.heat
    seq = heat.simulate(h.nx, h.T, h.stoptime)
    young = instances.young_omegas(h.nx - 1, seq.shifts)
    table = instances.cost_table(seq.rhs, seq.shifts, grid_of(config), young, x0=seq.x0, **_solver_kw(config))
    costs = table[:, :-1]
    lo, hi = heat.context_interval(h.T, h.stoptime)
    ts, cb = [], []
    for trial in range(h.trials):
        ts.append(learners.run_tsallis_inf(costs, np.random.default_rng([config.seed, HEAT_STREAM, trial, 1])))
        cb.append(learners.run_chebcb(costs, seq.kappa, np.random.default_rng([config.seed, HEAT_STREAM, trial, 2]),
                                      m=config.chebcb.m, lo=lo, hi=hi))
    return {"kappa": jnp.asarray(seq.kappa, jnp.float64), "shifts": jnp.asarray(seq.shifts, jnp.float64),
            "costs": jnp.asarray(costs, jnp.int32), "young_costs": jnp.asarray(table[:, -1], jnp.int32),
            "tsallis_arms": jnp.asarray(np.stack(ts), jnp.int32), "cheb_arms": jnp.asarray(np.stack(cb), jnp.int32)}


def train_and_evaluate(config, workdir: str):
    """Runs the unfinished work units (resuming after the last finished one), then evaluates."""
    check_config(config)
    with jax.enable_x64(True):
        def run_one(name):
            if name == "young_check":
                res = run_young_check(config)
                return res, {"young_check/max_sor_iterations": float(np.max(res["sor"]))}
            if name == "heat":
                res = run_heat(config)
                return res, {f"heat/{k}": v for k, v in heat_metrics(config, res).items() if np.isscalar(v)}
            dist, trial = name.split("/")
            res = run_sequence(config, dist, int(trial))
            return res, {f"{dist}/{trial}/{k}": v for k, v in summarize_sequence(res).items()}

        training.run_units_in(workdir, config, initial_state(config), unit_names(config), run_one,
                              name="learning_to_relax units")
    return evaluate(config, workdir)


# ----------------------------------------------------------------------------- evaluation

def played(costs: np.ndarray, arms: np.ndarray) -> np.ndarray:
    return costs[np.arange(len(arms)), arms]


def summarize_sequence(res: dict) -> dict:
    """Cumulative iterations of the learners and baselines over one sequence."""
    costs = np.asarray(res["costs"], np.int64)
    totals = costs.sum(axis=0)
    return {"tsallis_inf": int(played(costs, np.asarray(res["tsallis_arms"])).sum()),
            "chebcb": int(played(costs, np.asarray(res["cheb_arms"])).sum()),
            "gauss_seidel": int(totals[0]),
            "best_fixed": int(totals.min()), "best_fixed_arm": int(totals.argmin()),
            "instance_optimal": int(np.asarray(res["young_costs"]).sum()),
            "best_grid_per_instance": int(costs.min(axis=1).sum())}


def regret_curve(res: dict) -> np.ndarray:
    """Tsallis-INF regret against the best fixed arm in hindsight after t = 1..T instances ([T])."""
    costs = np.asarray(res["costs"], np.float64)
    best = int(costs.sum(axis=0).argmin())
    return np.cumsum(played(costs, np.asarray(res["tsallis_arms"])) - costs[:, best])


def regret_exponent(curve: np.ndarray) -> float:
    """Slope of log R(t) against log t over t in [T/10, T] (1 = linear regret)."""
    T = len(curve)
    t = np.arange(1, T + 1)
    sel = (t >= max(2, T // 10)) & (curve > 0)
    if sel.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(t[sel]), np.log(curve[sel]), 1)[0])


def heat_metrics(config, res: dict) -> dict:
    """Cumulative SOR iterations over the heat-equation sequence: baselines, and each learner (mean over
    its ``heat.trials`` runs, and per run)."""
    grid = grid_of(config)
    costs = np.asarray(res["costs"], np.int64)
    totals = costs.sum(axis=0)
    per_run = {name: [int(played(costs, np.asarray(arms)).sum()) for arms in np.asarray(res[key])]
               for name, key in (("tsallis_inf", "tsallis_arms"), ("chebcb", "cheb_arms"))}
    out = {"n": (config.heat.nx - 1) ** 2, "T": int(costs.shape[0]),
           "gauss_seidel": int(totals[0]), "best_fixed": int(totals.min()),
           "best_fixed_omega": round(float(grid[totals.argmin()]), 4),
           "instance_optimal": int(np.asarray(res["young_costs"]).sum()),
           "best_grid_per_instance": int(costs.min(axis=1).sum()),
           "tsallis_inf": float(np.mean(per_run["tsallis_inf"])), "chebcb": float(np.mean(per_run["chebcb"])),
           "tsallis_inf_per_run": per_run["tsallis_inf"], "chebcb_per_run": per_run["chebcb"]}
    out["tsallis_over_best_fixed"] = out["tsallis_inf"] / out["best_fixed"]
    out["tsallis_over_gauss_seidel"] = out["tsallis_inf"] / out["gauss_seidel"]
    out["chebcb_over_best_fixed"] = out["chebcb"] / out["best_fixed"]
    out["chebcb_over_instance_optimal"] = out["chebcb"] / out["instance_optimal"]
    return out


def _load(config, workdir: str) -> ExperimentState:
    return training.load_finished_units(workdir, config, initial_state(config), len(unit_names(config)),
                                        "papers.learning_to_relax.train")


def compute_metrics(config, state) -> dict:
    grid, shifts = grid_of(config), check_shifts(config)
    yc = {k: np.asarray(v) for k, v in state.results["young_check"].items()}
    young = instances.young_omegas(config.m, shifts)
    m: dict = {"grid": grid, "young_check": {
        "shifts": shifts, "young_omega": young,
        "sor_argmin_omega": grid[yc["sor"].argmin(axis=1)], "pcg_argmin_omega": grid[yc["pcg"].argmin(axis=1)],
        "sor_min_iterations": yc["sor"].min(axis=1), "sor_iterations_at_young": yc["sor_young"]}}
    for dist in config.distributions:
        seqs = [state.results[f"{dist}/{i}"] for i in range(config.trials)]
        per = [summarize_sequence(s) for s in seqs]
        agg = {k: float(np.sum([p[k] for p in per])) for k in per[0] if k != "best_fixed_arm"}
        curves = np.stack([regret_curve(s) for s in seqs])
        agg["best_fixed_omega"] = [round(float(grid[p["best_fixed_arm"]]), 4) for p in per]
        agg["tsallis_over_best_fixed"] = agg["tsallis_inf"] / agg["best_fixed"]
        agg["tsallis_over_gauss_seidel"] = agg["tsallis_inf"] / agg["gauss_seidel"]
        agg["chebcb_over_best_fixed"] = agg["chebcb"] / agg["best_fixed"]
        agg["chebcb_over_instance_optimal"] = agg["chebcb"] / agg["instance_optimal"]
        tail = slice(config.T - config.T // 5, config.T)      # the last fifth of every sequence (descriptive)
        tail_sum = lambda f: float(sum(f(s)[tail].sum() for s in seqs))  # noqa: E731
        best_arms = [p["best_fixed_arm"] for p in per]
        agg["tsallis_over_best_fixed_last_fifth"] = (
            tail_sum(lambda s: played(np.asarray(s["costs"]), np.asarray(s["tsallis_arms"])))
            / sum(float(np.asarray(s["costs"])[tail, a].sum()) for s, a in zip(seqs, best_arms)))
        agg["chebcb_over_instance_optimal_last_fifth"] = (
            tail_sum(lambda s: played(np.asarray(s["costs"]), np.asarray(s["cheb_arms"])))
            / tail_sum(lambda s: np.asarray(s["young_costs"])))
        agg["regret_exponent"] = regret_exponent(curves.mean(axis=0))
        agg["regret_per_instance_at_T_over_4"] = float(curves.mean(axis=0)[config.T // 4 - 1] / (config.T // 4))
        agg["regret_per_instance_at_T"] = float(curves.mean(axis=0)[-1] / config.T)
        agg["trials"] = config.trials
        m[dist] = agg
    if config.heat.run:
        m["heat"] = heat_metrics(config, state.results["heat"])
    return m


def build_claims(config, m: dict) -> list[claims_lib.Claim]:
    grid = m["grid"]
    step = float(grid[1] - grid[0])
    yc = m["young_check"]
    dev = np.abs(np.asarray(yc["sor_argmin_omega"]) - np.asarray(yc["young_omega"]))
    cl = [claims_lib.Claim(
        "1_grid_matches_young",
        f"for {len(dev)} shifts c in [{yc['shifts'][0]:.2f}, {yc['shifts'][-1]:.2f}] the grid omega with the fewest "
        f"SOR iterations (mean over {config.young_check.rhs} b) is within one grid step ({step:.3f}) of Young's "
        "omega* = 2/(1+sqrt(1-rho_J^2))",
        "omega* minimises the asymptotic SOR rate (Young)",
        "argmin - omega*: " + ", ".join(f"{d:+.3f}" for d in (np.asarray(yc["sor_argmin_omega"]) - yc["young_omega"]))
        + f"; max |dev| {dev.max():.3f}", bool(np.all(dev <= step + 1e-9)))]
    th = config.thresholds
    dists = list(config.distributions)

    def per_dist(key, fmt="{:.3f}"):
        return "; ".join(f"{d}: " + fmt.format(m[d][key]) for d in dists)

    cl.append(claims_lib.Claim(
        "2a_tsallis_vs_best_fixed",
        f"cumulative Tsallis-INF iterations over T={config.T} instances <= {th.tsallis_vs_best:.2f} x those of the "
        "best fixed omega in hindsight (every context distribution)",
        "Tsallis-INF tracks the best fixed omega (Fig. 2)",
        "ratio " + per_dist("tsallis_over_best_fixed") + " (last fifth of the sequences: "
        + per_dist("tsallis_over_best_fixed_last_fifth") + "); best fixed omega "
        + "; ".join(f"{d}: {m[d]['best_fixed_omega']}" for d in dists),
        all(m[d]["tsallis_over_best_fixed"] <= th.tsallis_vs_best for d in dists)))
    cl.append(claims_lib.Claim(
        "2b_tsallis_vs_gauss_seidel",
        f"cumulative Tsallis-INF iterations <= {th.tsallis_vs_gs:.2f} x Gauss-Seidel (omega = 1)",
        "several-fold fewer iterations than omega = 1 (Fig. 2)",
        "ratio " + per_dist("tsallis_over_gauss_seidel"),
        all(m[d]["tsallis_over_gauss_seidel"] <= th.tsallis_vs_gs for d in dists)))
    cl.append(claims_lib.Claim(
        "2c_sublinear_regret",
        "Tsallis-INF regret R(t) against the best fixed omega grows sublinearly: fitted exponent of R(t) ~ t^p "
        "on t in [T/10, T] is < 1 and R(t)/t falls from t = T/4 to t = T",
        "regret O~(T^(2/3)) with ~T^(1/3) arms (theory)",
        "p " + per_dist("regret_exponent") + "; R/t at T/4 -> T: "
        + "; ".join(f"{d}: {m[d]['regret_per_instance_at_T_over_4']:.1f} -> {m[d]['regret_per_instance_at_T']:.1f}"
                    for d in dists),
        all(m[d]["regret_exponent"] < 1.0 and m[d]["regret_per_instance_at_T"] < m[d]["regret_per_instance_at_T_over_4"]
            for d in dists)))
    hv = config.chebcb.distribution
    cl.append(claims_lib.Claim(
        "3a_chebcb_beats_best_fixed",
        f"on the {hv}-variance distribution ChebCB (context c_t) needs fewer cumulative iterations than the best "
        "fixed omega in hindsight",
        "ChebCB below the best fixed omega (Fig. 3)",
        f"ChebCB / best fixed {m[hv]['chebcb_over_best_fixed']:.3f}", m[hv]["chebcb_over_best_fixed"] < 1.0))
    cl.append(claims_lib.Claim(
        "3b_chebcb_near_instance_optimal",
        f"on the {hv}-variance distribution ChebCB's cumulative iterations are within "
        f"{100 * (th.cheb_vs_opt - 1):.0f}% of the instance-optimal omega*(c_t) (Young)",
        "ChebCB approaches the instance-optimal curve (Fig. 3, T = 5000)",
        f"ChebCB / instance-optimal {m[hv]['chebcb_over_instance_optimal']:.3f} (last fifth of the sequences: "
        f"{m[hv]['chebcb_over_instance_optimal_last_fifth']:.3f}; best grid arm per instance / "
        f"instance-optimal {m[hv]['best_grid_per_instance'] / m[hv]['instance_optimal']:.3f})",
        m[hv]["chebcb_over_instance_optimal"] <= th.cheb_vs_opt))
    return cl


def plot(config, state, m: dict, workdir: str) -> list[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    grid = m["grid"]
    dists = list(config.distributions)
    fig, axes = plt.subplots(1, len(dists), figsize=(6.5 * len(dists), 4.5), squeeze=False)
    for ax, dist in zip(axes[0], dists):
        res = state.results[f"{dist}/0"]
        costs = np.asarray(res["costs"], np.float64)
        T = len(costs)
        rem = T - np.arange(1, T + 1)
        curves = {"Tsallis-INF": played(costs, np.asarray(res["tsallis_arms"])),
                  "ChebCB": played(costs, np.asarray(res["cheb_arms"])),
                  "Gauss-Seidel (omega=1)": costs[:, 0],
                  f"best fixed omega={grid[costs.sum(0).argmin()]:.2f}": costs[:, costs.sum(0).argmin()],
                  "instance-optimal (Young)": np.asarray(res["young_costs"], np.float64)}
        for label, c in curves.items():
            ax.plot(np.cumsum(c), rem, label=label, lw=2)
        ax.set_xscale("log")
        ax.set_xlabel("total iterations")
        ax.set_ylabel("instances remaining")
        ax.set_title(f"{dist}-variance shifts, trial 0")
        ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(os.path.join(workdir, "cumulative_iterations.png"))
    fig.savefig(paths[-1], dpi=90)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    for dist in dists:
        curve = np.mean([regret_curve(state.results[f"{dist}/{i}"]) for i in range(config.trials)], axis=0)
        t = np.arange(1, len(curve) + 1)
        axes[0].loglog(t, np.maximum(curve, 1e-9), label=f"{dist}: p={m[dist]['regret_exponent']:.2f}")
    axes[0].loglog(t, curve[-1] * (t / t[-1]), "k:", label="linear")
    axes[0].loglog(t, curve[-1] * (t / t[-1]) ** (2 / 3), "k--", label="t^(2/3)")
    axes[0].set_xlabel("instances t")
    axes[0].set_ylabel("Tsallis-INF regret vs best fixed omega")
    axes[0].legend(fontsize=8)
    yc = state.results["young_check"]
    for j, c in enumerate(m["young_check"]["shifts"]):
        line, = axes[1].semilogy(grid, np.asarray(yc["sor"])[j], label=f"c={c:.2f}")
        axes[1].semilogy(grid, np.asarray(yc["pcg"])[j], ls="--", color=line.get_color())
        axes[1].axvline(m["young_check"]["young_omega"][j], color=line.get_color(), ls=":")
    axes[1].set_xlabel("omega")
    axes[1].set_ylabel("iterations (solid SOR, dashed SSOR-PCG)")
    axes[1].set_title("dotted: Young's omega*(c)")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    paths.append(os.path.join(workdir, "regret_and_young.png"))
    fig.savefig(paths[-1], dpi=90)
    plt.close(fig)
    if config.heat.run:
        paths.append(plot_heat(config, state.results["heat"], m["heat"], os.path.join(workdir, "heat_equation.png")))
    return paths


def moving_average(x: np.ndarray, w: int) -> np.ndarray:
    """Centred moving average with a window of w (shrunk at the ends), as MATLAB ``movmean``."""
    x = np.asarray(x, np.float64)
    c = np.concatenate([[0.0], np.cumsum(x)])
    i = np.arange(len(x))
    lo, hi = np.maximum(i - w // 2, 0), np.minimum(i + (w - 1) // 2 + 1, len(x))
    return (c[hi] - c[lo]) / (hi - lo)


def plot_heat(config, res: dict, hm: dict, path: str) -> str:
    """The heat-equation figure: SOR iterations over (step, omega) with the omegas each policy picked
    (moving average over 25 steps, learners' first run), cumulative iterations, and kappa(t)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = grid_of(config)
    costs = np.asarray(res["costs"], np.float64)
    T = len(costs)
    steps = np.arange(1, T + 1)
    young = instances.young_omegas(config.heat.nx - 1, np.asarray(res["shifts"]))
    ts, cb = np.asarray(res["tsallis_arms"])[0], np.asarray(res["cheb_arms"])[0]
    fig, axes = plt.subplots(1, 3, figsize=(19, 4.8))
    ax = axes[0]
    im = ax.imshow(np.log10(costs.T), origin="lower", aspect="auto", cmap="viridis",
                   extent=(0.5, T + 0.5, grid[0] - (grid[1] - grid[0]) / 2, grid[-1] + (grid[1] - grid[0]) / 2))
    fig.colorbar(im, ax=ax, label="log10 SOR iterations")
    ax.axhline(hm["best_fixed_omega"], color="k", ls=":", lw=2, label="best fixed omega")
    ax.plot(steps, moving_average(young, 25), color="k", lw=2, label="instance-optimal omega*(c_t)")
    ax.plot(steps, moving_average(grid[ts], 25), color="orange", lw=1.5, label="Tsallis-INF")
    ax.plot(steps, moving_average(grid[cb], 25), color="#A2142F", lw=1.5, label="ChebCB")
    ax.set_xlabel("simulation step")
    ax.set_ylabel("omega")
    ax.set_title(f"heat equation, n = {hm['n']}: SOR iterations per (step, omega)")
    ax.legend(fontsize=7, loc="upper right")
    curves = {"Gauss-Seidel (omega=1)": costs[:, 0],
              f"best fixed omega={hm['best_fixed_omega']:.2f}": costs[:, int(np.argmin(costs.sum(0)))],
              "Tsallis-INF (run 0)": played(costs, ts), "ChebCB (run 0)": played(costs, cb),
              "instance-optimal (Young)": np.asarray(res["young_costs"], np.float64)}
    for label, c in curves.items():
        axes[1].plot(steps, np.cumsum(c), label=label, lw=2)
    axes[1].set_xlabel("simulation step")
    axes[1].set_ylabel("cumulative SOR iterations")
    axes[1].legend(fontsize=8)
    axes[2].plot(np.arange(T) * config.heat.stoptime / T, np.asarray(res["kappa"]), lw=2)
    axes[2].set_xlabel("time t")
    axes[2].set_ylabel("diffusion coefficient kappa(t) (ChebCB's context)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def evaluate(config, workdir: str) -> dict:
    """Reads the finished units, computes metrics and claims, saves the figures and eval.json."""
    check_config(config)
    with jax.enable_x64(True):
        state = _load(config, workdir)
        m = compute_metrics(config, state)
        cl = build_claims(config, m)
        figures = plot(config, state, m, workdir) if distributed.is_chief() else []
        return claims_lib.write_eval(workdir, m, cl, figures)
