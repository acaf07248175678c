"""train_and_evaluate / evaluate of the Tensor Programs IV (μP, feature learning) reproduction.

"Training" runs five work units and checkpoints the state after each (a killed run resumes at the next
unit; a second run on a finished workdir does nothing):
  movement  feature movement vs width, μP vs NTK (claim 1)
  transfer  Adam learning-rate grid x widths, SP vs μP (claim 2)
  digits    FO-MAML on digits: finite μP/NTK linear nets vs μP∞ / NTK∞ / GP∞ (claim 3)
  synthetic FO-MAML on the synthetic few-shot family (claim 4)
  w2v       Word2Vec on a generated corpus: μP∞ vs finite μP/NTK (claim 5)
``evaluate`` reads the state, computes the claims and draws the figures.
"""
from __future__ import annotations

import functools
import os

import flax
import jax
import jax.numpy as jnp
import numpy as np

from common import checkpoint as ckpt_lib
from common import claims as claims_lib
from common import data as common_data
from common import training
from common import config as config_lib
from papers.mup_feature_learning import parametrization as pz
from papers.mup_feature_learning import runs

UNITS = ("movement", "transfer", "digits", "synthetic", "w2v")
FEWSHOT_FAMILIES = ("digits", "synthetic", "omniglot")
W2V_CORPORA = ("generated", "text8")
DIGIT_CLASSES = tuple(range(10))
# parametrisations the claims of each unit compare (a config may list more)
CLAIM_PARAMETRIZATIONS = {"movement": ("mup", "ntk"), "transfer": ("sp", "mup"), "digits": ("mup", "ntk"),
                          "synthetic": ("mup", "ntk"), "w2v": ("mup", "ntk")}
# results allowed to be non-finite: a diverged point of the learning-rate grid is an outcome of the sweep
MAY_DIVERGE = {("transfer", "loss")}


@flax.struct.dataclass
class ExperimentState:
    step: jax.Array          # number of finished work units
    results: dict            # unit -> {name: array}


def _maml_dim(m) -> int:
    return {"digits": 64, "synthetic": m.in_dim, "omniglot": m.image_size ** 2}[m.family]


def result_shapes(config) -> dict:
    """Shapes of every result array, so that a fresh state has the structure of a finished one."""
    mv, tr = config.movement, config.transfer
    out = {"movement": {"movement": (len(mv.parametrizations), len(mv.widths), mv.seeds),
                        "final_loss": (len(mv.parametrizations), len(mv.widths), mv.seeds)},
           "transfer": {"loss": (len(tr.parametrizations), len(tr.widths), len(tr.log2_lrs), tr.seeds),
                        "lrs": (len(tr.log2_lrs),)}}
    for unit in ("digits", "synthetic"):
        m = config[unit]
        n_chunks = m.steps // max(1, m.eval_every)
        r = {"mup_inf/acc": (), "mup_inf/acc_init": (), "mup_inf/loss": (n_chunks * max(1, m.eval_every),),
             "mup_inf/acc_curve": (n_chunks + 1,), "mup_inf/M": (_maml_dim(m), m.n_way)}
        for name in ("ntk_inf", "gp_inf"):
            r[f"{name}/acc"], r[f"{name}/final_loss"] = (m.seeds,), (m.seeds,)
        for p in m.parametrizations:
            for key in ("acc", "err_vs_mup_inf", "final_loss"):
                r[f"{p}/{key}"] = (len(m.widths), m.seeds)
        out[unit] = r
    w = config.w2v
    r = {"mup_inf/analogy": (), "mup_inf/loss": (), "ntk_inf/analogy": (), "chance": ()}
    for p in w.parametrizations:
        r[f"{p}/analogy"], r[f"{p}/loss"] = (len(w.widths), w.seeds), (len(w.widths), w.seeds)
    out["w2v"] = r
    return out


def initial_state(config) -> ExperimentState:
    results = {u: {k: jnp.asarray(np.zeros(s, np.float32)) for k, s in shapes.items()}   # no eager XLA op
               for u, shapes in result_shapes(config).items()}
    return ExperimentState(step=jnp.asarray(np.int32(0)), results=results)


def _parametrization_problems(config) -> list[str]:
    out = []
    for section, needed in CLAIM_PARAMETRIZATIONS.items():
        names = tuple(config[section].parametrizations)
        unknown = [p for p in names if p not in pz.PARAMETRIZATIONS]
        if unknown:
            out.append(f"config.{section}.parametrizations: unknown {unknown}; valid: {pz.PARAMETRIZATIONS}")
        missing = [p for p in needed if p not in names]
        if missing:
            out.append(f"config.{section}.parametrizations={names} lacks {missing}, which the claims of this unit "
                       f"compare; it must include {needed}")
    return out


def _fewshot_problems(config, section: str) -> list[str]:
    m, out = config[section], []
    if m.family not in FEWSHOT_FAMILIES:
        out.append(f"config.{section}.family={m.family!r}; valid: {FEWSHOT_FAMILIES}")
    if m.steps < 1 or m.steps % max(1, m.eval_every):
        out.append(f"config.{section}.steps={m.steps} must be a positive multiple of config.{section}.eval_every="
                   f"{m.eval_every}")
    if m.family == "digits":
        for key in ("train_classes", "test_classes"):
            classes = tuple(m[key])
            if not set(classes) <= set(DIGIT_CLASSES) or len(set(classes)) < m.n_way:
                out.append(f"config.{section}.{key}={classes} must hold at least n_way={m.n_way} distinct "
                           f"classes from {DIGIT_CLASSES}")
    return out


def validate_config(config) -> None:
    """Values that parse but that no unit can run (a misspelt family or corpus, a parametrisation the claims
    need, steps that do not split into evaluation chunks), found before any work instead of when their unit
    (or eval) runs. Raises ``common.config.ConfigError`` naming each key and its valid values."""
    problems = _parametrization_problems(config)
    for section in ("digits", "synthetic"):
        problems += _fewshot_problems(config, section)
    if config.w2v.corpus not in W2V_CORPORA:
        problems.append(f"config.w2v.corpus={config.w2v.corpus!r}; valid: {W2V_CORPORA}")
    config_lib.raise_if_invalid(problems, "mup_feature_learning")


def check_finite(unit: str, results: dict) -> None:
    """Fails fast (FloatingPointError naming the unit and keys) on non-finite results, except ``MAY_DIVERGE``."""
    bad = [k for k, v in results.items() if (unit, k) not in MAY_DIVERGE and not np.all(np.isfinite(np.asarray(v)))]
    if bad:
        raise FloatingPointError(f"work unit {unit!r} produced non-finite values in {bad}; nothing of it was saved")


def check_data(config) -> None:
    """The config's values (``validate_config``), then Omniglot (a few-shot section with family='omniglot') and
    text8 with its analogy questions (w2v.corpus='text8'), before any unit runs; digits, synthetic tasks and
    the generated corpus need nothing."""
    from papers.mup_feature_learning import data as data_mod
    validate_config(config)
    checks = {}
    for section in ("digits", "synthetic"):                       # the two few-shot units
        if config[section].family == "omniglot":
            checks[f"{section}.data_dir"] = functools.partial(data_mod.require_omniglot, config[section].data_dir)
    if config.w2v.corpus == "text8":
        checks["w2v.data_dir"] = lambda: [data_mod.require_text8(config.w2v.data_dir),
                                          data_mod.require_analogies(config.w2v.data_dir)]
    common_data.check_all(checks)


def run_unit(config, unit: str) -> dict:
    seed = config.seed
    if unit == "movement":
        return runs.feature_movement(config.movement, seed)
    if unit == "transfer":
        return runs.lr_transfer(config.transfer, seed)
    if unit in ("digits", "synthetic"):
        return runs.maml(config[unit], seed)
    if unit == "w2v":
        return runs.word2vec(config.w2v, seed)
    raise ValueError(f"unknown unit {unit!r}")


def summarize(unit: str, res: dict) -> dict:
    out = {}
    for k, v in res.items():
        v = np.asarray(v)
        if v.ndim == 0:
            out[f"{unit}/{k}"] = float(v)
        elif k.endswith("/acc") or k.endswith("analogy"):
            out[f"{unit}/{k}_mean"] = float(np.mean(v))
    return out


def train_and_evaluate(config, workdir: str):
    """Runs the unfinished work units (resuming after the last finished one), then evaluates."""
    validate_config(config)
    shapes = result_shapes(config)

    def run_one(name):
        res = {k: jnp.asarray(np.asarray(v, np.float32).reshape(shapes[name][k]))
               for k, v in run_unit(config, name).items()}
        check_finite(name, res)
        return res, summarize(name, res)

    training.run_units_in(workdir, config, initial_state(config), UNITS, run_one, name="mup units")
    return evaluate(config, workdir)


# ----------------------------------------------------------------------------- evaluation

def load_results(config, workdir: str) -> dict:
    with ckpt_lib.Checkpointer(workdir, config) as ckpt:
        state = ckpt.restore_or(initial_state(config))
        if int(state.step) < len(UNITS):
            raise RuntimeError(f"{workdir} holds {int(state.step)}/{len(UNITS)} finished units; run train first")
        return jax.tree.map(np.asarray, state.results)


def loglog_slope(x, y) -> float:
    if len(x) < 2:
        return float("nan")
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def lr_curves(loss: np.ndarray) -> np.ndarray:
    """Geometric mean over seeds of the final training loss, [..., lr]; non-finite (diverged) runs count as 1e3."""
    loss = np.where(np.isfinite(loss), loss, 1e3)
    return np.exp(np.mean(np.log(np.clip(loss, 1e-12, 1e3)), axis=-1))


def _movement_claims(config, results: dict) -> tuple[dict, list]:
    """Claim 1: feature movement vs width under μP and NTK parametrisation. Returns (metrics, claims)."""
    out = []
    th = config.thresholds
    mv = config.movement
    move = results["movement"]["movement"].mean(-1)               # [param, width]
    widths = np.asarray(mv.widths)
    pi = {p: i for i, p in enumerate(mv.parametrizations)}
    mup_move, ntk_move = move[pi["mup"]], move[pi["ntk"]]
    ratio = float(mup_move.max() / mup_move.min())
    big = widths >= 256
    slope = loglog_slope(widths[big], ntk_move[big]) if big.sum() >= 2 else float("nan")
    metrics = {"widths": widths, "mup": mup_move, "ntk": ntk_move, "mup_max_over_min": ratio,
               "ntk_loglog_slope": slope, "mup_slope": loglog_slope(widths, mup_move),
               "final_loss": results["movement"]["final_loss"].mean(-1)}
    lo, hi = th.ntk_slope
    out.append(claims_lib.Claim(
        "1_feature_movement",
        f"RMS(h_T-h_0)/RMS(h_0) after {mv.steps} SGD steps (lr {mv.lr}, batch {mv.batch}, base width {mv.base_width}): "
        f"width-independent in μP (max/min <= {th.mup_movement_ratio}), NTK log-log slope in [{lo}, {hi}] (widths >= 256)",
        "μP: Θ(1) in width; NTK: Θ(n^-1/2)",
        f"μP {np.round(mup_move, 3).tolist()} (max/min {ratio:.3f}); NTK {np.round(ntk_move, 3).tolist()} "
        f"(slope {slope:.3f}) at widths {widths.tolist()}",
        ratio <= th.mup_movement_ratio and lo <= slope <= hi))
    return metrics, out


def _transfer_claims(config, results: dict) -> tuple[dict, list]:
    """Claim 2: learning-rate transfer with Adam (μP vs standard parametrisation). Returns (metrics, claims)."""
    out = []
    th = config.thresholds
    tr = config.transfer
    curves = lr_curves(results["transfer"]["loss"])                # [param, width, lr]
    log2_lrs = np.asarray(tr.log2_lrs)
    ti = {p: i for i, p in enumerate(tr.parametrizations)}
    best = curves.argmin(-1)                                       # [param, width]
    shift = {p: int(np.max(np.abs(best[ti[p]] - best[ti[p], 0]))) for p in ti}
    end_shift = {p: int(abs(best[ti[p], -1] - best[ti[p], 0])) for p in ti}
    cost = {p: float(np.log10(curves[ti[p], -1, best[ti[p], 0]]) - np.log10(curves[ti[p], -1].min())) for p in ti}
    metrics = {"log2_lrs": log2_lrs, "widths": np.asarray(tr.widths), "curves": curves,
               "best_log2_lr": log2_lrs[best], "max_shift_steps": shift, "end_shift_steps": end_shift,
               "cost_decades": cost}
    out.append(claims_lib.Claim(
        "2_lr_transfer_adam",
        f"Adam, {tr.depth} hidden layers, widths {list(tr.widths)}, {tr.seeds} seeds, lr grid 2^k: μP best lr moves "
        f"<= {th.mup_lr_shift} step, SP's shifts >= {th.sp_lr_shift}; width-{tr.widths[0]} lr at width {tr.widths[-1]} "
        f"costs SP >= {th.sp_cost_decades} decade of train loss, μP <= {th.mup_cost_decades}",
        "μP optimum stable across width; SP optimum shifts (Tensor Programs IV/V)",
        f"best log2 lr per width: SP {log2_lrs[best[ti['sp']]].tolist()}, μP {log2_lrs[best[ti['mup']]].tolist()}; "
        f"cost SP {cost['sp']:.2f} dec, μP {cost['mup']:.2f} dec",
        shift["mup"] <= th.mup_lr_shift and end_shift["sp"] >= th.sp_lr_shift
        and cost["sp"] >= th.sp_cost_decades and cost["mup"] <= th.mup_cost_decades))
    return metrics, out


def _digits_claims(config, results: dict) -> tuple[dict, list]:
    """Claims 3a/3b: finite networks vs the μP∞ / NTK∞ limits on few-shot digits. Returns (metrics, claims)."""
    out = []
    th = config.thresholds
    dg, r = config.digits, results["digits"]
    dw = np.asarray(dg.widths)
    err = r["mup/err_vs_mup_inf"].mean(-1)
    err_slope = loglog_slope(dw, err)
    acc_mup, acc_ntk = 100 * r["mup/acc"].mean(-1), 100 * r["ntk/acc"].mean(-1)
    ntk_inf, gp_inf, mup_inf = 100 * r["ntk_inf/acc"].mean(), 100 * r["gp_inf/acc"].mean(), 100 * float(r["mup_inf/acc"])
    gap_ntk = abs(acc_ntk[-1] - ntk_inf)
    mup_above = acc_mup[-1] - ntk_inf           # signed: the paper's μP nets are better than the kernel limit
    metrics = {"widths": dw, "mup_err_vs_mup_inf": err, "err_slope": err_slope, "acc_mup": acc_mup,
               "acc_ntk": acc_ntk, "acc_mup_inf": mup_inf, "acc_ntk_inf": ntk_inf, "acc_gp_inf": gp_inf,
               "acc_mup_inf_curve": 100 * r["mup_inf/acc_curve"], "ntk_err_vs_mup_inf": r["ntk/err_vs_mup_inf"].mean(-1),
               "ntk_gap": gap_ntk, "mup_minus_ntk_inf": mup_above}
    decreasing = bool(np.all(np.diff(err) < 0))
    out.append(claims_lib.Claim(
        "3a_mup_networks_approach_mup_inf",
        f"FO-MAML {dg.n_way}-way {dg.k_shot}-shot digits, linear nets: ||M_n - M_inf||/||M_inf|| falls with width "
        f"(every step, log-log slope < -0.3)",
        "finite μP networks converge to μP∞ (error O(n^-1/2))",
        f"rel. error {np.round(err, 4).tolist()} at widths {dw.tolist()} (slope {err_slope:.2f})",
        decreasing and err_slope < -0.3))
    out.append(claims_lib.Claim(
        "3b_ntk_networks_approach_ntk_limit",
        f"widest NTK network within {th.ntk_gap_points} points of NTK∞ few-shot accuracy; widest μP network at least "
        f"{th.mup_away_points} points above it (μP - NTK∞ >= {th.mup_away_points}, and farther than the NTK network)",
        "NTK nets -> NTK∞ (~47% Omniglot); μP nets -> μP∞ (~92%)",
        f"NTK(n={dw[-1]}) {acc_ntk[-1]:.1f}%, NTK∞ {ntk_inf:.1f}% (gap {gap_ntk:.2f}); μP(n={dw[-1]}) "
        f"{acc_mup[-1]:.1f}% (μP - NTK∞ {mup_above:+.2f}); μP∞ {mup_inf:.1f}%, GP∞ {gp_inf:.1f}%",
        gap_ntk <= th.ntk_gap_points and mup_above >= th.mup_away_points and mup_above > gap_ntk))
    return metrics, out


def _synthetic_claims(config, results: dict) -> tuple[dict, list]:
    """Claim 4: μP∞ vs the kernel limits on the synthetic few-shot family. Returns (metrics, claims)."""
    out = []
    th = config.thresholds
    sy, r = config.synthetic, results["synthetic"]
    s_mup_inf = 100 * float(r["mup_inf/acc"])
    s_ntk_inf, s_gp_inf = 100 * r["ntk_inf/acc"].mean(), 100 * r["gp_inf/acc"].mean()
    s_fixed = 100 * float(r["mup_inf/acc_init"])
    s_acc_mup, s_acc_ntk = 100 * r["mup/acc"].mean(-1), 100 * r["ntk/acc"].mean(-1)
    kernel_best = max(s_ntk_inf, s_gp_inf)
    metrics = {"widths": np.asarray(sy.widths), "acc_mup_inf": s_mup_inf, "acc_ntk_inf": s_ntk_inf,
               "acc_gp_inf": s_gp_inf, "acc_fixed_features": s_fixed, "acc_mup": s_acc_mup,
               "gain_over_kernel_limits": s_mup_inf - kernel_best, "gain_over_untrained_kernel": s_mup_inf - s_fixed,
               "acc_ntk": s_acc_ntk, "acc_mup_inf_curve": 100 * r["mup_inf/acc_curve"],
               "mup_err_vs_mup_inf": r["mup/err_vs_mup_inf"].mean(-1)}
    out.append(claims_lib.Claim(
        "4_fewshot_mup_beats_kernel_limits",
        f"synthetic family (d={sy.in_dim}, shared {sy.latent_dim}-dim representation), FO-MAML {sy.n_way}-way "
        f"{sy.k_shot}-shot: μP∞ beats max(NTK∞, GP∞) by >= {th.fewshot_gain_points} points",
        "Omniglot: μP∞ ~92% vs NTK∞/GP∞ ~47%",
        f"μP∞ {s_mup_inf:.1f}% vs NTK∞ {s_ntk_inf:.1f}%, GP∞ {s_gp_inf:.1f}% (+{s_mup_inf - kernel_best:.1f}); "
        f"vs μP∞ before meta-training {s_fixed:.1f}% ({s_mup_inf - s_fixed:+.1f}; with one inner step it is the "
        f"untrained kernel predictor with f_0 = 0); μP n={sy.widths[-1]}: {s_acc_mup[-1]:.1f}%, NTK n={sy.widths[-1]}: "
        f"{s_acc_ntk[-1]:.1f}%",
        s_mup_inf - kernel_best >= th.fewshot_gain_points))
    return metrics, out


def _w2v_claims(config, results: dict) -> tuple[dict, list]:
    """Claim 5: Word2Vec analogies, μP∞ vs NTK networks and NTK∞. Returns (metrics, claims)."""
    out = []
    wc, r = config.w2v, results["w2v"]
    w_mup_inf, w_ntk_inf = 100 * float(r["mup_inf/analogy"]), 100 * float(r["ntk_inf/analogy"])
    w_mup, w_ntk = 100 * r["mup/analogy"].mean(-1), 100 * r["ntk/analogy"].mean(-1)
    metrics = {"widths": np.asarray(wc.widths), "analogy_mup_inf": w_mup_inf, "analogy_ntk_inf": w_ntk_inf,
               "analogy_mup": w_mup, "analogy_ntk": w_ntk, "chance": 100 * float(r["chance"]),
               "loss_mup_inf": float(r["mup_inf/loss"]), "loss_mup": r["mup/loss"].mean(-1),
               "loss_ntk": r["ntk/loss"].mean(-1)}
    out.append(claims_lib.Claim(
        "5_word2vec_mup_inf_learns_embeddings",
        f"Word2Vec (SGNS) on a generated corpus: μP∞ analogy accuracy beats the widest NTK network and NTK∞ "
        f"(embeddings frozen) by >= 20 points",
        "text8: μP∞ beats finite widths; NTK/GP∞ embeddings stay random (analogies at chance)",
        f"μP∞ {w_mup_inf:.1f}%, μP {np.round(w_mup, 1).tolist()}, NTK {np.round(w_ntk, 1).tolist()} at widths "
        f"{list(wc.widths)}, NTK∞ {w_ntk_inf:.1f}% (chance {100 * float(r['chance']):.1f}%)",
        w_mup_inf - max(w_ntk[-1], w_ntk_inf) >= 20.0))
    return metrics, out


def compute_claims(config, results: dict) -> tuple[dict, list]:
    """Metrics (by experiment) and the claims of every experiment, in claim order."""
    metrics, out = {}, []
    for key, fn in (("movement", _movement_claims), ("transfer", _transfer_claims), ("digits", _digits_claims),
                    ("synthetic", _synthetic_claims), ("w2v", _w2v_claims)):
        metrics[key], claims = fn(config, results)
        out.extend(claims)
    return metrics, out


def make_figures(config, metrics: dict, workdir: str) -> list[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    paths = []

    t = metrics["transfer"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, p in zip(axes, config.transfer.parametrizations):
        i = list(config.transfer.parametrizations).index(p)
        for j, n in enumerate(t["widths"]):
            ax.plot(t["log2_lrs"], np.log10(t["curves"][i, j]), "o-", label=f"width {n}")
        ax.set_title(f"{p.upper()} + Adam"), ax.set_xlabel("log2 learning rate")
    axes[0].set_ylabel("log10 training loss"), axes[0].legend()
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.92, wspace=0.08)   # (tight_layout: slow)
    paths.append(os.path.join(workdir, "lr_transfer.png"))
    fig.savefig(paths[-1], dpi=100), plt.close(fig)

    m, d, s = metrics["movement"], metrics["digits"], metrics["synthetic"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    axes[0].loglog(m["widths"], m["mup"], "o-", label="μP"), axes[0].loglog(m["widths"], m["ntk"], "s-", label="NTK")
    axes[0].set_xlabel("width"), axes[0].set_ylabel("RMS(h_T-h_0)/RMS(h_0)"), axes[0].legend()
    axes[0].set_title("feature movement (digits, SGD)")
    for ax, r, title in ((axes[1], d, "digits 5-way 1-shot"), (axes[2], s, "synthetic 5-way 1-shot")):
        ax.semilogx(r["widths"], r["acc_mup"], "o-", label="μP nets")
        ax.semilogx(r["widths"], r["acc_ntk"], "s-", label="NTK nets")
        for val, ls, lab in ((r["acc_mup_inf"], "-", "μP∞"), (r["acc_ntk_inf"], "--", "NTK∞"),
                             (r["acc_gp_inf"], ":", "GP∞")):
            ax.axhline(val, ls=ls, color="k", alpha=0.6, label=lab)
        ax.set_xlabel("width"), ax.set_ylabel("test accuracy (%)"), ax.set_title(title), ax.legend()
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.13, top=0.92, wspace=0.25)
    paths.append(os.path.join(workdir, "limits_and_movement.png"))
    fig.savefig(paths[-1], dpi=100), plt.close(fig)
    return paths


def evaluate(config, workdir: str):
    results = load_results(config, workdir)
    metrics, claims = compute_claims(config, results)
    figures = make_figures(config, metrics, workdir)
    return claims_lib.write_eval(workdir, metrics, claims, figures)
