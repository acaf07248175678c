"""Benchmark: wall time to an l1 marginal error of 1e-10 vs n on random assignment problems.

Compares SNS (ours, JAX), log-domain Sinkhorn (ours, JAX) and POT's ``ot.sinkhorn(method="sinkhorn_log")``
(numpy). ott-jax is left out: it is not installed in this workspace. Times are medians over repeats
after one compilation run; POT stops on its own l2 criterion, set to tol / sqrt(n) so that its l1
error is at most tol.

  python -m papers.sinkhorn_newton_sparse.benchmark --sizes=200,500,1000 --eta=300 --repeats=3 --out=/tmp/sns_bench
"""
from __future__ import annotations

import json
import os
import time

import numpy as np
from absl import app, flags

from papers.sinkhorn_newton_sparse import problems, solver

FLAGS = flags.DEFINE_string("sizes", "200,500,1000,2000", "comma-separated problem sizes n")
ETA = flags.DEFINE_float("eta", 300.0, "eta (POT reg = 1/eta)")
REPEATS = flags.DEFINE_integer("repeats", 3, "timed repeats per method and size (median)")
TOL = flags.DEFINE_float("tol", 1e-10, "l1 marginal error to reach")
OUT = flags.DEFINE_string("out", "/tmp/sinkhorn_newton_sparse_benchmark", "output directory (json + png)")
SKIP_POT_ABOVE = flags.DEFINE_integer("skip_pot_above", 1000, "do not run POT for n larger than this")


def time_ours(cost, a, eta, method, tol, repeats):
    kw = dict(method=method, tol=tol, max_iter=200_000 if method == "sinkhorn" else 2000)
    if method == "sns":
        kw.update(cg_tol=1e-6, jacobi=True)
    solver.solve(cost, a, a, eta=eta, **{**kw, "tol": np.inf})   # compile
    times, res = [], None
    for _ in range(repeats):
        res = solver.solve(cost, a, a, eta=eta, **kw)
        times.append(res.seconds)
    return float(np.median(times)), res.iterations, res.error


def time_pot(cost, a, eta, tol, repeats):
    import ot
    times, log, P = [], None, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        P, log = ot.sinkhorn(a, a, cost, reg=1.0 / eta, method="sinkhorn_log", numItermax=200_000,
                             stopThr=tol / np.sqrt(len(a)), log=True, warn=False)
        times.append(time.perf_counter() - t0)
    err = float(np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - a).sum())
    return float(np.median(times)), int(log["niter"]), err


def main(argv):
    del argv
    sizes = [int(s) for s in FLAGS.value.split(",")]
    rows = []
    for n in sizes:
        cost, a, _ = problems.random_assignment(0, n)
        row = {"n": n, "eta": ETA.value}
        for method in ("sns", "sinkhorn"):
            row[f"{method}_seconds"], row[f"{method}_iterations"], row[f"{method}_error"] = time_ours(
                cost, a, ETA.value, method, TOL.value, REPEATS.value)
        if n <= SKIP_POT_ABOVE.value:
            row["pot_seconds"], row["pot_iterations"], row["pot_error"] = time_pot(cost, a, ETA.value, TOL.value,
                                                                                  REPEATS.value)
        rows.append(row)
        print(json.dumps(row))
    os.makedirs(OUT.value, exist_ok=True)
    with open(os.path.join(OUT.value, "benchmark.json"), "w") as f:
        json.dump(rows, f, indent=2)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (("sns", "SNS (JAX)"), ("sinkhorn", "Sinkhorn log (JAX)"), ("pot", "POT sinkhorn_log")):
        pts = [(r["n"], r[f"{key}_seconds"]) for r in rows if f"{key}_seconds" in r]
        if pts:
            ax.loglog(*zip(*pts), "o-", label=label)
    ax.set_xlabel("n"); ax.set_ylabel(f"seconds to l1 error {TOL.value:g}")
    ax.set_title(f"random assignment, eta={ETA.value:g}"); ax.legend()
    fig.tight_layout(); fig.savefig(os.path.join(OUT.value, "benchmark.png"), dpi=120)


if __name__ == "__main__":
    app.run(main)
