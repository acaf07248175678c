"""train_and_evaluate / evaluate of the "On Neural Differential Equations" reproduction.

"Training" runs four work units in order, checkpointing the results after each (a killed run resumes at
the next unit; a second run on a finished workdir does nothing):

  claim1_reversible  float64 gradients of a linear ODE and a linear SDE: reversible Heun (exact backward),
                     discretise-then-optimise (ours and diffrax), backsolve adjoint (diffrax), closed form
  claim2_seminorm    float64 continuous adjoint of an augmented neural ODE, full norm vs seminorm
  claim3_cde         neural CDE vs GRU-with-time-gaps on irregular spirals at each drop rate (float32)
  claim4_gan         neural SDE GAN on a time-dependent OU process (float32)

``evaluate`` reads the results, forms the claims and draws the figures.  Keys: unit u uses
fold_in(PRNGKey(seed), u); inside claim 3, drop rate r uses fold_in(., r) and both models share its data
and minibatch order.
"""
from __future__ import annotations

import os
import time

import flax
import jax
import jax.numpy as jnp
import numpy as np

from common import checkpoint as ckpt_lib
from common import claims as claims_lib
from common import data as common_data
from common import distributed
from common import metrics as metrics_lib
from papers.neural_des import checks, classify, data, gan, rand

UNITS = ("claim1_reversible", "claim2_seminorm", "claim3_cde", "claim4_gan")
CLAIM1_KEYS = tuple(f"{p}_{k}" for p in ("ode", "sde") for k in (
    "reversible_vs_dto", "reversible_vs_diffrax_dto", "dto_vs_diffrax_dto", "backsolve_vs_dto",
    "reversible_vs_closed", "backsolve_vs_closed")) + ("ode_reconstruction_error",)
CLAIM2_KEYS = ("backward_steps_full", "backward_steps_seminorm", "backward_rejected_full",
               "backward_rejected_seminorm", "forward_steps", "grad_diff_full_vs_seminorm",
               "grad_err_full_vs_reference", "grad_err_seminorm_vs_reference", "grad_err_full_vs_reference_median",
               "grad_err_seminorm_vs_reference_median", "min_saving", "max_saving",
               "num_params")
CLAIMS = ("1_reversible_heun_exact_gradients", "2_seminorm_adjoint", "3_ncde_irregular_spirals",
          "4_sde_gan_marginals")


@flax.struct.dataclass
class ExperimentState:
    step: jax.Array          # number of finished work units
    results: dict            # unit name -> dict of arrays


def unit_key(config, i: int):
    return jax.random.fold_in(jax.random.PRNGKey(config.seed), i)


def initial_state(config) -> ExperimentState:
    """Zero results with the final shapes (the checkpoint's structure)."""
    f32 = lambda *s: jax.device_put(np.zeros(s, np.float32))     # (no per-shape program)
    cde, g = config.cde, config.gan
    n_r, n_curve = len(cde.drop_rates), cde.steps // cde.eval_every
    n_w = g.steps // g.log_every
    results = {
        "claim1_reversible": {k: f32() for k in CLAIM1_KEYS} | {"seconds": f32()},
        "claim2_seminorm": {k: f32() for k in CLAIM2_KEYS} | {"seconds": f32()},
        "claim3_cde": {"test_accuracy": f32(n_r, 2), "train_accuracy": f32(n_r, 2), "curve": f32(n_r, 2, n_curve),
                       "losses": f32(n_r, 2, cde.steps), "seconds": f32(n_r, 2)},
        "claim4_gan": {"ts": f32(g.length), "data_mean": f32(g.length), "data_var": f32(g.length),
                       **{f"{w}_{s}": f32(g.length) for w in ("init", "final", "swa") for s in ("mean", "var")},
                       "wasserstein": f32(n_w), "data_paths": f32(16, g.length), "swa_paths": f32(16, g.length),
                       "init_paths": f32(16, g.length), "seconds": f32()},
    }
    return ExperimentState(step=jnp.asarray(0, jnp.int32), results=results)


# ----------------------------------------------------------------------------- work units

def run_claim1(config, key) -> dict:
    t = time.time()
    cfg = config.reversible
    out = checks.run_claim1(cfg, key) if cfg.diffrax_routes else checks.run_claim1_ours(cfg, key)
    return {k: jnp.float32(out.get(k, np.nan)) for k in CLAIM1_KEYS} | {"seconds": jnp.float32(time.time() - t)}


def run_claim2(config, key) -> dict:
    t = time.time()
    out = checks.run_claim2(config.seminorm, key)
    return {k: jnp.float32(out[k]) for k in CLAIM2_KEYS} | {"seconds": jnp.float32(time.time() - t)}


def cde_data(config, key, drop_rate: float):
    """(train, test) pairs of (values [n, K, c], labels [n]) for one drop rate."""
    cde = config.cde
    if cde.dataset == "spirals":
        k1, k2 = rand.split(key)
        train = data.irregular_spirals(k1, cde.n_train, drop_rate, cde.length, cde.noise)
        test = data.irregular_spirals(k2, cde.n_test, drop_rate, cde.length, cde.noise)
        return train, test
    if cde.dataset == "character_trajectories":
        split = data.load_character_trajectories(os.path.expanduser(cde.data_dir), drop_rate, config.seed)
    elif cde.dataset == "speech_commands":
        split = data.load_speech_commands(os.path.expanduser(cde.data_dir), config.seed)
    else:
        raise ValueError(f"unknown cde.dataset {cde.dataset!r}")
    return tuple((jnp.asarray(v), jnp.asarray(l)) for v, l in (split["train"], split["test"]))


def run_claim3(config, key, writer=None) -> dict:
    cde = config.cde
    out = {k: np.zeros(v.shape, np.float32) for k, v in initial_state(config).results["claim3_cde"].items()}
    for r, rate in enumerate(cde.drop_rates):
        k_rate = jax.random.fold_in(key, r)
        train, test = cde_data(config, jax.random.fold_in(k_rate, 0), rate)
        for m, kind in enumerate(classify.MODELS):
            t = time.time()
            res = classify.train_classifier(kind, cde, jax.random.fold_in(k_rate, 1), train, test)
            out["test_accuracy"][r, m] = res["test_accuracy"]
            out["train_accuracy"][r, m] = res["train_accuracy"]
            out["curve"][r, m] = res["curve"]
            out["losses"][r, m] = res["losses"]
            out["seconds"][r, m] = time.time() - t
            print(f"claim3 drop {rate:.0%} {kind}: test accuracy {res['test_accuracy']:.4f} "
                  f"({out['seconds'][r, m]:.1f} s)", flush=True)
            if writer is not None:
                writer.write(r * 2 + m, {f"cde/{kind}_drop{int(rate * 100)}_test_acc": res["test_accuracy"]})
    return {k: jnp.asarray(v) for k, v in out.items()}


def run_claim4(config, key, writer=None) -> dict:
    g = config.gan
    t0 = time.time()
    k_data, k_init, k_train, k_eval = rand.split(key, 4)
    ts, ys = data.time_dependent_ou(k_data, 2 * g.n_data, g.length, g.t1, g.mu, g.theta, g.sigma)
    ys = np.asarray(ys)
    train, held_out = ys[:g.n_data], ys[g.n_data:g.n_data + g.n_eval]
    gen_tx, disc_tx = gan.make_optimizers(g)
    gen, disc = gan.init_params(k_init, g)
    gen_opt, disc_opt = jax.jit(lambda a, b: (gen_tx.init(a), disc_tx.init(b)))(gen, disc)   # one program
    swa, init_gen = gen, gen
    step = gan.make_train_step(g, ts)
    noise = lambda key, n: gan.sample_noise(key, n, gan.n_increments(ts, g), g.noise_dim, g.init_dim)
    ws = []
    for i in range(g.steps):   # step i: minibatch from fold_in(k_train, 2 i), generator draws from fold_in(., 2 i + 1)
        idx = np.asarray(classify.minibatch(k_train, 2 * i, g.n_data, g.batch_size))
        eps = noise(jax.random.fold_in(k_train, 2 * i + 1), g.batch_size)
        gen, disc, gen_opt, disc_opt, swa, w = step(gen, disc, gen_opt, disc_opt, swa, i, eps, train[idx])
        if (i + 1) % g.log_every == 0:
            ws.append(float(w))
            if writer is not None:
                writer.write(i + 1, {"gan/wasserstein": float(w)})
            print(f"claim4 step {i + 1}/{g.steps}: W = {float(w):.4f}", flush=True)
    out = {"ts": ts, "wasserstein": np.asarray(ws, np.float32).reshape(-1), "data_paths": held_out[:16, :, 0]}

    @jax.jit      # compiled once, used for the data and the three generators
    def marginals(samples):
        return jnp.mean(samples, 0)[:, 0], jnp.var(samples, 0)[:, 0]
    out["data_mean"], out["data_var"] = marginals(held_out)
    eval_noise = noise(k_eval, g.n_eval)
    sample = jax.jit(lambda params, noise: gan.sample_from_noise(params, noise, ts, g))   # compiled once, used 3x
    for name, params in (("init", init_gen), ("final", gen), ("swa", swa)):
        samples = sample(params, eval_noise)
        out[f"{name}_mean"], out[f"{name}_var"] = marginals(samples)
        if name in ("init", "swa"):
            out[f"{name}_paths"] = np.asarray(samples)[:16, :, 0]
    out["seconds"] = jnp.float32(time.time() - t0)
    return out


def run_unit(config, i: int, writer=None) -> dict:
    key = unit_key(config, i)
    name = UNITS[i]
    if name == "claim1_reversible":
        return run_claim1(config, key)
    if name == "claim2_seminorm":
        return run_claim2(config, key)
    if name == "claim3_cde":
        return run_claim3(config, key, writer)
    return run_claim4(config, key, writer)


def check_data(config) -> None:
    """The paper-scale CDE data set (cde.data_dir) before any work; the spirals are generated here."""
    common_data.check_all({"cde.data_dir": lambda: data.require_dataset(config.cde.dataset,
                                                                         os.path.expanduser(config.cde.data_dir))})


def train_and_evaluate(config, workdir: str):
    """Runs the unfinished work units (resuming from the checkpoint), then :func:`evaluate`."""
    state = initial_state(config)
    ckpt = ckpt_lib.Checkpointer(workdir, config, save_every=config.checkpoint_every)
    state = ckpt.restore_or(state)
    writer = metrics_lib.MetricsWriter(workdir) if distributed.is_chief() else None
    for i in range(int(state.step), len(UNITS)):
        t = time.time()
        print(f"unit {i + 1}/{len(UNITS)}: {UNITS[i]}", flush=True)
        res = run_unit(config, i, writer)
        template = state.results[UNITS[i]]
        res = {k: jnp.asarray(res[k], template[k].dtype).reshape(template[k].shape) for k in template}
        state = state.replace(step=jnp.asarray(i + 1, jnp.int32), results={**state.results, UNITS[i]: res})
        ckpt.save(i + 1, state, force=True)
        if writer is not None:
            writer.write(100 + i, {f"unit_seconds/{UNITS[i]}": time.time() - t})
        print(f"unit {UNITS[i]} done in {time.time() - t:.1f} s", flush=True)
    ckpt.close()
    if writer is not None:
        writer.close()
    return evaluate(config, workdir)


# ----------------------------------------------------------------------------- evaluation

def load_results(config, workdir: str) -> dict:
    ckpt = ckpt_lib.Checkpointer(workdir, config, save_every=config.checkpoint_every)
    state = ckpt.restore_or(initial_state(config))
    ckpt.close()
    if int(state.step) < len(UNITS):
        raise RuntimeError(f"{workdir} has {int(state.step)}/{len(UNITS)} finished work units; run train first")
    return jax.tree.map(np.asarray, state.results)


def build_claims(config, res) -> tuple[list, dict]:
    r1, r2, r3, r4 = (res[u] for u in UNITS)
    rc = config.reversible
    claims, metrics = [], {}

    # Claim 1.
    rev = max(float(r1["ode_reversible_vs_dto"]), float(r1["sde_reversible_vs_dto"]))
    back = min(float(r1["ode_backsolve_vs_dto"]), float(r1["sde_backsolve_vs_dto"]))
    rev_dfx = max(float(r1["ode_reversible_vs_diffrax_dto"]), float(r1["sde_reversible_vs_diffrax_dto"]))
    orders = np.log10(back / max(rev, 1e-17)) if np.isfinite(back) else np.nan
    ok1 = rev <= rc.exact_tol and (not rc.diffrax_routes or (rev_dfx <= rc.exact_tol and orders >= rc.orders))
    claims.append(claims_lib.Claim(
        CLAIMS[0], "reversible Heun's exact backward pass equals discretise-then-optimise (float64, linear ODE and "
        "SDE); backsolve adjoint at the same step is orders of magnitude further off",
        "equal to DTO up to round-off; backsolve error >> (thesis Sec. 5.4)",
        f"rel. error vs DTO {rev:.1e} (vs diffrax DTO {rev_dfx:.1e}); backsolve {back:.1e} "
        f"({orders:.1f} orders larger)", ok1))
    metrics.update({f"claim1/{k}": float(v) for k, v in r1.items()})

    # Claim 2.
    sc = config.seminorm
    full, semi = float(r2["backward_steps_full"]), float(r2["backward_steps_seminorm"])
    saving = 1.0 - semi / full
    diff = float(r2["grad_diff_full_vs_seminorm"])
    ok2 = saving >= sc.min_saving and diff <= sc.grad_tol
    claims.append(claims_lib.Claim(
        CLAIMS[1], "seminorm adjoint: >= 20% fewer backward steps than the full norm, gradients within 1e-4",
        "~40% fewer backward evaluations (thesis Sec. 5.3.1)",
        f"backward steps {int(semi)} vs {int(full)} over {sc.n_networks} networks ({saving:.0%} fewer; per "
        f"network {float(r2['min_saving']):.0%}..{float(r2['max_saving']):.0%}); grad diff {diff:.1e} "
        f"(error vs DTO reference, seminorm / full: median {float(r2['grad_err_seminorm_vs_reference_median']):.1e}"
        f" / {float(r2['grad_err_full_vs_reference_median']):.1e}, worst {float(r2['grad_err_seminorm_vs_reference']):.1e}"
        f" / {float(r2['grad_err_full_vs_reference']):.1e})", ok2))
    metrics.update({f"claim2/{k}": float(v) for k, v in r2.items()})
    metrics["claim2/step_saving"] = saving

    # Claim 3.
    cc = config.cde
    acc = r3["test_accuracy"]
    ok3 = bool(np.all(acc[:, 0] >= cc.min_accuracy) and np.all(acc[:, 0] > acc[:, 1]))
    desc = ", ".join(f"{int(p * 100)}%: {a[0]:.1%} vs {a[1]:.1%}" for p, a in zip(cc.drop_rates, acc))
    claims.append(claims_lib.Claim(
        CLAIMS[2], "neural CDE >= 95% test accuracy on irregular spirals (30/50/70% dropped) and beats a GRU given "
        f"the time gaps at the same budget ({cc.steps} steps)",
        "CharacterTrajectories 98.7/98.8/98.6% vs GRU-D/ODE-RNN ~92-95%",
        f"NCDE vs GRU test accuracy: {desc}", ok3))
    for p, a, tr in zip(cc.drop_rates, acc, r3["train_accuracy"]):
        for m, kind in enumerate(classify.MODELS):
            metrics[f"claim3/{kind}_drop{int(p * 100)}_test_acc"] = float(a[m])
            metrics[f"claim3/{kind}_drop{int(p * 100)}_train_acc"] = float(tr[m])

    # Claim 4.
    errs = {}
    for name in ("init", "final", "swa"):
        dm = r4[f"{name}_mean"] - r4["data_mean"]
        dv = r4[f"{name}_var"] - r4["data_var"]
        errs[name] = (float(np.sqrt(np.mean(dm ** 2))), float(np.sqrt(np.mean(dv ** 2))))
        metrics[f"claim4/{name}_mean_rms_error"], metrics[f"claim4/{name}_var_rms_error"] = errs[name]
    ok4 = errs["swa"][0] < errs["init"][0] and errs["swa"][1] < errs["init"][1]
    claims.append(claims_lib.Claim(
        CLAIMS[3], "SDE-GAN samples match the data's marginal mean and variance over time better than the "
        "initial generator (RMS over time, SWA generator)",
        "qualitative (thesis Fig. 4.4: OU samples match)",
        f"mean err {errs['init'][0]:.3f} -> {errs['swa'][0]:.3f}, var err {errs['init'][1]:.3f} -> "
        f"{errs['swa'][1]:.3f} (last iterate {errs['final'][0]:.3f} / {errs['final'][1]:.3f})", ok4))
    return claims, metrics


def save_figures(config, res, workdir: str) -> list[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    paths = []
    r3, r4 = res["claim3_cde"], res["claim4_gan"]
    cc = config.cde

    fig, axes = plt.subplots(1, len(cc.drop_rates), figsize=(4 * len(cc.drop_rates), 3), squeeze=False)
    steps = np.arange(1, r3["curve"].shape[-1] + 1) * cc.eval_every
    for r, p in enumerate(cc.drop_rates):
        ax = axes[0, r]
        for m, kind in enumerate(classify.MODELS):
            ax.plot(steps, r3["curve"][r, m], marker="o", label=kind.upper())
        ax.set(title=f"{int(p * 100)}% dropped", xlabel="Adam steps", ylabel="test accuracy", ylim=(0.4, 1.02))
        ax.legend()
    fig.tight_layout()
    paths.append(os.path.join(workdir, "cde_vs_gru.png"))
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)

    fig, axes = plt.subplots(1, 3, figsize=(14, 3.5))
    ts = r4["ts"]
    for ax, (name, title) in zip(axes[:2], (("mean", "marginal mean"), ("var", "marginal variance"))):
        ax.plot(ts, r4[f"data_{name}"], "k-", lw=2, label="data")
        ax.plot(ts, r4[f"init_{name}"], "C1--", label="initial generator")
        ax.plot(ts, r4[f"swa_{name}"], "C0-", label="trained generator (SWA)")
        ax.set(title=title, xlabel="t")
        ax.legend()
    axes[2].plot(ts, r4["data_paths"].T, "k-", alpha=0.4)
    axes[2].plot(ts, r4["swa_paths"].T, "C0-", alpha=0.6)
    axes[2].set(title="sample paths: data (black), generated (blue)", xlabel="t")
    fig.tight_layout()
    paths.append(os.path.join(workdir, "sde_gan_marginals.png"))
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    return paths


def evaluate(config, workdir: str) -> dict:
    res = load_results(config, workdir)
    claims, metrics = build_claims(config, res)
    figures = save_figures(config, res, workdir) if distributed.is_chief() else []
    return claims_lib.write_eval(workdir, metrics, claims, figures)
