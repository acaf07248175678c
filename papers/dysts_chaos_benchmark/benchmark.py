"""Trajectory-generation throughput: this JAX database vs the ``dysts`` package, and their agreement.

``dysts`` is a benchmark-only dependency and must not enter the repo's environment. Install it in a
separate virtual environment and point DYSTS_PYTHON at that interpreter:

    python3.11 -m venv /tmp/dysts_venv && /tmp/dysts_venv/bin/pip install dysts==0.96
    DYSTS_PYTHON=/tmp/dysts_venv/bin/python .venv/bin/python -m papers.dysts_chaos_benchmark.benchmark \
        --workdir=/tmp/dysts_chaos_benchmark_bench

For each system both sides produce the same trajectory: ``n`` points, ``pts_per_period`` points per
dominant period, from the published initial condition (dysts: ``make_trajectory`` with its defaults,
scipy Radau at rtol = atol = 1e-12; here: fixed-step RK4 in float64 with ``substeps`` steps per output
point, jitted). Times are medians over repeats; ours excludes the one-off compilation, which is reported
separately. Also reported: batched throughput (all systems fused in one scan, a batch of initial
conditions each), and the relative error of our trajectory against dysts' over the first 0.1 Lyapunov
time (normalised by the attractor std). Writes benchmark.json and benchmark.png to --workdir.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np

from common import chaotic_systems as cs

SYSTEMS = ("Lorenz", "Rossler", "Aizawa", "HyperRossler", "SprottB")

INSTALL = ("dysts is not importable. It is a benchmark-only dependency; install it in a separate venv:\n"
           "  python3.11 -m venv /tmp/dysts_venv && /tmp/dysts_venv/bin/pip install dysts==0.96\n"
           "then rerun with DYSTS_PYTHON=/tmp/dysts_venv/bin/python.")


def find_dysts_python() -> str | None:
    candidates = [os.environ.get("DYSTS_PYTHON"), sys.executable]
    for py in candidates:
        try:
            if py and subprocess.run([py, "-c", "import dysts.flows"], capture_output=True).returncode == 0:
                return py
        except OSError:  # DYSTS_PYTHON names no executable
            continue
    return None


def run_dysts(py, systems, n, ppp, repeats) -> dict:
    worker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dysts_worker.py")
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "dysts.npz")
        args = json.dumps({"systems": list(systems), "n": n, "pts_per_period": ppp, "repeats": repeats})
        subprocess.run([py, worker, args, out], check=True)
        with np.load(out) as z:
            return {k: z[k] for k in z.files}


def time_ours(systems, n, ppp, substeps, repeats, batch):
    res = {}
    with jax.enable_x64(True):
        for name in systems:
            s = cs.get_system(name)
            ic = jnp.asarray(s.ic, jnp.float64)[None]
            # dysts samples n points on linspace(0, T n / ppp, n): spacing T n / (ppp (n - 1)).
            ppp_eff = ppp * (n - 1) / n
            t0 = time.perf_counter()
            tr = cs.integrate(name, ic, n, pts_per_period=ppp_eff, substeps=substeps).block_until_ready()
            compile_s = time.perf_counter() - t0
            times, cpu = [], []
            for _ in range(repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                cs.integrate(name, ic, n, pts_per_period=ppp_eff, substeps=substeps).block_until_ready()
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            res[name] = {"traj": np.asarray(tr[0]), "times": np.asarray(times), "cpu": np.asarray(cpu),
                         "compile_s": compile_s}
        # batched: all systems fused, `batch` initial conditions each
        ics = [jnp.tile(jnp.asarray(cs.get_system(nm).ic, jnp.float64), (batch, 1)) for nm in systems]
        f = lambda: [x.block_until_ready() for x in cs.integrate_systems(systems, ics, n, pts_per_period=ppp,
                                                                         substeps=substeps)]
        f()
        bt = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            f()
            bt.append(time.perf_counter() - t0)
    return res, float(np.median(bt))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--pts_per_period", type=int, default=100)
    ap.add_argument("--substeps", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    a = ap.parse_args(argv)
    systems = tuple(s for s in a.systems.split(",") if s)
    py = find_dysts_python()
    if py is None:
        print(INSTALL)
        return 0
    os.makedirs(a.workdir, exist_ok=True)
    ref = run_dysts(py, systems, a.n, a.pts_per_period, a.repeats)
    ours, batched_s = time_ours(systems, a.n, a.pts_per_period, a.substeps, a.repeats, a.batch)
    rows = {}
    for name in systems:
        s = cs.get_system(name)
        d_traj, o_traj = ref[f"{name}/traj"], ours[name]["traj"]
        t_d, t_o = float(np.median(ref[f"{name}/times"])), float(np.median(ours[name]["times"]))
        dt_out = s.period * a.n / (a.pts_per_period * (a.n - 1))
        k = max(1, int(np.floor(0.1 / s.lyapunov_max / dt_out)))  # points within 0.1 Lyapunov time
        err = np.abs(o_traj[:k + 1] - d_traj[:k + 1]) / np.asarray(s.std)
        same_ic = bool(np.allclose(ref[f"{name}/ic"], np.asarray(s.ic), rtol=1e-5))
        c_d, c_o = float(np.median(ref[f"{name}/cpu"])), float(np.median(ours[name]["cpu"]))
        rows[name] = {"dysts_s": t_d, "ours_s": t_o, "speedup": t_d / t_o, "dysts_cpu_s": c_d, "ours_cpu_s": c_o,
                      "speedup_cpu": c_d / max(c_o, 1e-9), "ours_compile_s": ours[name]["compile_s"],
                      "points_in_0.1_lyapunov_time": k, "max_rel_err_0.1_lyapunov_time": float(err.max()),
                      "max_rel_err_full": float((np.abs(o_traj - d_traj) / np.asarray(s.std)).max()),
                      "same_initial_condition": same_ic}
        print(f"{name:14s} dysts {t_d:8.3f} s  ours {t_o:8.4f} s  speedup {t_d / t_o:7.1f}x  "
              f"rel.err(0.1 LT, {k} pts) {err.max():.1e}", flush=True)
    speed = np.array([r["speedup"] for r in rows.values()])
    total_dysts = sum(r["dysts_s"] for r in rows.values())
    summary = {"median_speedup": float(np.median(speed)),
               "median_speedup_cpu": float(np.median([r["speedup_cpu"] for r in rows.values()])), "systems": list(systems), "n": a.n,
               "pts_per_period": a.pts_per_period, "substeps": a.substeps, "repeats": a.repeats,
               "batched_seconds_all_systems": batched_s, "batch": a.batch,
               "batched_trajectories_per_second": a.batch * len(systems) / batched_s,
               "dysts_trajectories_per_second": len(systems) / total_dysts,
               "frac_agree_1e-3_at_0.1_lyapunov_time": float(np.mean(
                   [r["max_rel_err_0.1_lyapunov_time"] < 1e-3 for r in rows.values()])),
               "per_system": rows, "device": str(jax.devices()[0])}
    print(f"median speedup (dysts time / ours, one trajectory): {summary['median_speedup']:.1f}x wall, "
          f"{summary['median_speedup_cpu']:.1f}x CPU; batched "
          f"{summary['batched_trajectories_per_second']:.0f} traj/s vs dysts "
          f"{summary['dysts_trajectories_per_second']:.2f} traj/s")
    with open(os.path.join(a.workdir, "benchmark.json"), "w") as f:
        json.dump(summary, f, indent=2)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.bar(np.arange(len(systems)), speed)
    ax.set_xticks(np.arange(len(systems)), systems, rotation=40)
    ax.set_yscale("log")
    ax.set_ylabel("dysts time / JAX time")
    ax.set_title(f"{a.n} points, {a.pts_per_period} pts/period; median {np.median(speed):.1f}x")
    fig.tight_layout()
    fig.savefig(os.path.join(a.workdir, "benchmark.png"), dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main())
