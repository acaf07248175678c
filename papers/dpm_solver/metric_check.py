"""Is the learned-model comparison (claim 2) an artefact of the sample-quality metric? A diagnostic.

    python -m papers.dpm_solver.metric_check --variant=small --workdir=/tmp/dpm_solver_small [--reps=8] [--n=4096]

Loads the trained 2-D model of a finished ``train`` workdir and draws ``reps`` x ``n`` samples from the same
x_T with the learned model's reference ODE solve, DPM-Solver-2/3 at 10 and 20 NFE, DDIM at 20/50/200 and
Euler-Maruyama at 200 (the claim's samplers), plus fresh data. Each replicate is scored against its own
held-out data by the unbiased energy distance (``quality.energy_distance``; zero in expectation for equal
distributions, no spread-dependent bias unlike finite-sample sliced W2), and each sampler's dispersion by
the mean squared distance to the nearest mixture centre. Prints a table (mean +- SE over replicates, and
paired differences to DDIM@50) and writes ``metric_check.json`` into the workdir. Not part of ``eval``.
"""
from __future__ import annotations

import argparse
import json
import os

import jax
import jax.numpy as jnp
import numpy as np

from common import data as data_lib
from papers.dpm_solver import baselines, quality, solvers, train_lib
from papers.dpm_solver.configs import default as configs
from papers.dpm_solver.experiment import EulerRunner, FixedRunner, restore_trained
from papers.dpm_solver.quality import nearest_centre_msd


def draw_samples(eps, schedule, x_T, key) -> dict[str, np.ndarray]:
    """Samples of every compared sampler from the same x_T [N, 2]."""
    fixed, em = FixedRunner(eps, schedule, 200), EulerRunner(eps, schedule, 200, stochastic=True)
    out = {"reference_ode": baselines.reference_ode(eps, schedule, x_T, 1.0, 1e-3, rtol=1e-6, atol=1e-6)[0]}
    for order in (2, 3):
        for nfe in (10, 20):
            out[f"dpm{order}@{nfe}"] = fixed(x_T, solvers.fast_orders(nfe, order), "logSNR", 1.0, 1e-3)
    for nfe in (20, 50, 200):
        out[f"ddim@{nfe}"] = fixed(x_T, [1] * nfe, "logSNR", 1.0, 1e-3)
    out["em@200"] = em(x_T, 200, "time_uniform", 1.0, 1e-3, key)
    return {k: np.asarray(v) for k, v in out.items()}


def score(samples: dict[str, np.ndarray], held_out: np.ndarray, centres: np.ndarray, reps: int) -> dict:
    """Energy distance per replicate, its mean +- SE, the paired differences to DDIM@50 and (when sampled)
    EM@200, the claim-2 baselines, and the dispersion."""
    held = held_out.reshape(reps, -1, 2)
    energy = {k: np.array([float(quality.energy_distance(jnp.asarray(z_r), jnp.asarray(h_r)))
                           for z_r, h_r in zip(v.reshape(reps, -1, 2), held)]) for k, v in samples.items()}
    rows = {}
    for k, e in energy.items():
        rows[k] = {"energy": quality.mean_and_se(e), "minus_ddim50": quality.mean_and_se(e - energy["ddim@50"]),
                   "nearest_centre_msd": nearest_centre_msd(samples[k], centres)}
        if "em@200" in energy:
            rows[k]["minus_em200"] = quality.mean_and_se(e - energy["em@200"])
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variant", default="small", choices=("smoke", "small"))
    p.add_argument("--workdir", required=True)
    p.add_argument("--reps", type=int, default=8)
    p.add_argument("--n", type=int, default=4096)
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args(argv)
    config = configs.get_config(a.variant)
    state, _, schedule, model = restore_trained(config, a.workdir)
    eps = train_lib.learned_noise_pred(model, state.ema, schedule)
    mixture = data_lib.mixture_2d(config.data.name)
    keys = jax.random.split(jax.random.PRNGKey(a.seed), 4)
    x_T = jax.random.normal(keys[0], (a.reps * a.n, 2))
    samples = draw_samples(eps, schedule, x_T, keys[1])
    samples["data"] = np.asarray(mixture.sample(keys[2], a.reps * a.n))
    held_out = np.asarray(mixture.sample(keys[3], a.reps * a.n))
    rows = score(samples, held_out, np.asarray(mixture.means), a.reps)
    data_msd = nearest_centre_msd(held_out, np.asarray(mixture.means))
    print(f"{'sampler':14s} {'energy distance':>22s} {'minus DDIM@50 (paired)':>24s} "
          f"{'minus EM@200 (paired)':>24s} {'nearest-centre MSD':>20s}")
    for k, r in rows.items():
        (e, se), (d, dse), (m, mse) = r["energy"], r["minus_ddim50"], r["minus_em200"]
        print(f"{k:14s} {e:+.5f} +- {se:.5f}      {d:+.5f} +- {dse:.5f}      {m:+.5f} +- {mse:.5f}      "
              f"{r['nearest_centre_msd']:.4f}")
    print(f"held-out data nearest-centre MSD: {data_msd:.4f}")
    path = os.path.join(a.workdir, "metric_check.json")
    with open(path, "w") as f:
        json.dump({"reps": a.reps, "n": a.n, "data_nearest_centre_msd": data_msd, "rows": rows}, f, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
