"""Benchmark: wall time to an l1 marginal error of 1e-10 vs n on random assignment problems.

Compares SNS (ours, JAX), log-domain Sinkhorn (ours, JAX), POT's ``ot.sinkhorn(method="sinkhorn_log")``
(numpy) and ott-jax's ``Sinkhorn`` (JAX, log domain). POT and ott-jax are benchmark-only dependencies
that are not in requirements.txt; a missing one is skipped with a message saying how to install it
(``pip install POT==0.9.7.post1`` / ``pip install --no-deps ott-jax==0.6.0 jaxopt==0.8.5``).
Everything runs in float64. Times are medians over repeats after one compilation run. Sinkhorn-type
solvers stop at ``--max_iter`` iterations: a row then records the error reached, not a time to tol.
POT stops on its own l2 criterion, set to tol / sqrt(n) so that its l1 error is at most tol; ott-jax
checks its l1 marginal error every ``inner_iterations`` = 10 steps.

  python -m papers.sinkhorn_newton_sparse.benchmark --sizes=200,500,1000,2000 --eta=1200 --out=/tmp/sns_bench
"""
from __future__ import annotations

import json
import os
import time

import jax
import numpy as np
from absl import app, flags

from papers.sinkhorn_newton_sparse import problems, solver

FLAGS = flags.DEFINE_string("sizes", "200,500,1000,2000", "comma-separated problem sizes n")
ETA = flags.DEFINE_float("eta", 1200.0, "eta (POT reg = ott epsilon = 1/eta)")
REPEATS = flags.DEFINE_integer("repeats", 3, "timed repeats of SNS per size (median)")
SINKHORN_REPEATS = flags.DEFINE_integer("sinkhorn_repeats", 1, "timed repeats of the Sinkhorn-type solvers")
TOL = flags.DEFINE_float("tol", 1e-10, "l1 marginal error to reach")
MAX_ITER = flags.DEFINE_integer("max_iter", 40_000, "iteration cap of the Sinkhorn-type solvers")
OUT = flags.DEFINE_string("out", "/tmp/sinkhorn_newton_sparse_benchmark", "output directory (json + png)")
SKIP_POT_ABOVE = flags.DEFINE_integer("skip_pot_above", 500, "do not run POT for n larger than this")
METHODS = flags.DEFINE_list("methods", ["sns", "sinkhorn", "ott", "pot"], "solvers to time")
REPLOT = flags.DEFINE_list("replot", [], "benchmark.json files of earlier runs: merge them (same n: later file "
                           "wins per method) into --out and plot, without timing anything")

LABELS = {"sns": "SNS (JAX, ours)", "sinkhorn": "Sinkhorn log (JAX, ours)", "ott": "ott-jax Sinkhorn",
          "pot": "POT sinkhorn_log"}


def l1_error(plan, a, b) -> float:
    return float(np.abs(plan.sum(1) - a).sum() + np.abs(plan.sum(0) - b).sum())


def time_ours(cost, a, eta, method, tol, repeats, max_iter):
    kw = dict(method=method, tol=tol, max_iter=max_iter if method == "sinkhorn" else 2000)
    if method == "sns":
        kw.update(cg_tol=1e-6, jacobi=True)
    solver.solve(cost, a, a, eta=eta, **{**kw, "tol": np.inf})   # compile
    times, res = [], None
    for _ in range(repeats):
        res = solver.solve(cost, a, a, eta=eta, **kw)
        times.append(res.seconds)
    return float(np.median(times)), res.iterations, res.error


def time_pot(cost, a, eta, tol, repeats, max_iter):
    import ot
    times, log, plan = [], None, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        plan, log = ot.sinkhorn(a, a, cost, reg=1.0 / eta, method="sinkhorn_log", numItermax=max_iter,
                                stopThr=tol / np.sqrt(len(a)), log=True, warn=False)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), int(log["niter"]), l1_error(plan, a, a)


def time_ott(cost, a, eta, tol, repeats, max_iter):
    from ott.geometry import geometry
    from ott.problems.linear import linear_problem
    from ott.solvers.linear import sinkhorn
    with jax.enable_x64(True):
        @jax.jit
        def run(cost, a):
            geom = geometry.Geometry(cost_matrix=cost, epsilon=1.0 / eta)
            out = sinkhorn.Sinkhorn(threshold=tol, max_iterations=max_iter, lse_mode=True)(
                linear_problem.LinearProblem(geom, a, a))
            return out.matrix, out.n_iters

        cost64, a64 = jax.numpy.asarray(cost, "float64"), jax.numpy.asarray(a, "float64")
        jax.block_until_ready(run(cost64, a64))                    # compile (and one full solve)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            plan, iters = jax.block_until_ready(run(cost64, a64))
            times.append(time.perf_counter() - t0)
    return float(np.median(times)), int(iters), l1_error(np.asarray(plan), a, a)


def available(method: str) -> bool:
    module = {"pot": "ot", "ott": "ott"}.get(method)
    if module is None:
        return True
    try:
        __import__(module)
        return True
    except ImportError:
        hint = {"pot": "pip install POT==0.9.7.post1",
                "ott": "pip install --no-deps ott-jax==0.6.0 jaxopt==0.8.5"}[method]
        print(f"{method} is not installed; skipping it ({hint} to include it).")
        return False


def measure(method, n, cost, a):
    if method in ("sns", "sinkhorn"):
        reps = REPEATS.value if method == "sns" else SINKHORN_REPEATS.value
        return time_ours(cost, a, ETA.value, method, TOL.value, reps, MAX_ITER.value)
    if method == "pot":
        return time_pot(cost, a, ETA.value, TOL.value, SINKHORN_REPEATS.value, MAX_ITER.value)
    return time_ott(cost, a, ETA.value, TOL.value, SINKHORN_REPEATS.value, MAX_ITER.value)


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in LABELS.items():
        done = [(r["n"], r[f"{key}_seconds"]) for r in rows if r.get(f"{key}_error", np.inf) <= TOL.value]
        capped = [(r["n"], r[f"{key}_seconds"]) for r in rows if r.get(f"{key}_error", 0) > TOL.value]
        line = ax.loglog(*zip(*done), "o-", label=label)[0] if done else None
        if capped:
            ax.loglog(*zip(*capped), "x", color=line.get_color() if line else None,
                      label=None if line else f"{label} (hit max_iter)")
    ax.set_xlabel("n"); ax.set_ylabel(f"seconds to l1 error {TOL.value:g} (x: iteration cap)")
    ax.set_title(f"random assignment, eta={ETA.value:g}"); ax.legend(fontsize=8)
    fig.tight_layout(); fig.savefig(path, dpi=120)


def merge(paths):
    """Rows of several benchmark.json files merged by n (a later file's fields overwrite an earlier one's)."""
    by_n = {}
    for path in paths:
        with open(path) as f:
            for row in json.load(f):
                by_n.setdefault(row["n"], {}).update(row)
    return [by_n[n] for n in sorted(by_n)]


def main(argv):
    del argv
    if REPLOT.value:
        rows = merge(REPLOT.value)
        os.makedirs(OUT.value, exist_ok=True)
        with open(os.path.join(OUT.value, "benchmark.json"), "w") as f:
            json.dump(rows, f, indent=2)
        plot(rows, os.path.join(OUT.value, "benchmark.png"))
        return
    sizes = [int(s) for s in FLAGS.value.split(",")]
    methods = [m for m in METHODS.value if available(m)]
    os.makedirs(OUT.value, exist_ok=True)
    rows = []
    for n in sizes:
        cost, a, _ = problems.random_assignment(0, n)
        row = {"n": n, "eta": ETA.value, "tol": TOL.value, "max_iter": MAX_ITER.value}
        for method in methods:
            if method == "pot" and n > SKIP_POT_ABOVE.value:
                continue
            row[f"{method}_seconds"], row[f"{method}_iterations"], row[f"{method}_error"] = measure(method, n, cost, a)
            print(json.dumps({"n": n, "method": method, "seconds": row[f"{method}_seconds"],
                              "iterations": row[f"{method}_iterations"], "error": row[f"{method}_error"]}), flush=True)
        rows.append(row)
        with open(os.path.join(OUT.value, "benchmark.json"), "w") as f:   # rewritten after every size
            json.dump(rows, f, indent=2)
    plot(rows, os.path.join(OUT.value, "benchmark.png"))


if __name__ == "__main__":
    app.run(main)
