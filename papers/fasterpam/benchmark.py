"""Runtime of FasterPAM (ours: JAX while_loop, numpy loop, numba scalar loops) against the kmedoids package (Rust) vs n and k.

    python -m papers.fasterpam.benchmark --out=/tmp/fasterpam_bench [--ns=1000,2000,5000,10000,20000]
        [--ks=2,10,50,100,200] [--k_for_n=10] [--n_for_k=2000] [--repeats=3]

Data: Gaussian blobs (10 centres, 8 dims), Euclidean, float32 (a 20000^2 float32 matrix is 1.6 GB).
Each point is the median over ``repeats`` runs of the SWAP phase from the same LAB start (compilation
excluded). Writes benchmark.json and benchmark.png into --out. kmedoids is a benchmark-only dependency.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np


def _median_time(fn, repeats):
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def measure(n: int, k: int, repeats: int, numpy_too: bool = True) -> dict:
    import kmedoids
    from common import kmedoids as core, kmedoids_loops as loops
    from common import data as data_lib
    from papers.fasterpam import eager
    x = data_lib.load_clustering_features("blobs", n, seed=0)
    diss = jax.block_until_ready(core.pairwise_dissimilarity(x, "euclidean", jnp.float32))
    dnp = np.asarray(diss)
    start = core.lab(diss, k, jax.random.PRNGKey(0))
    start_np = np.asarray(start).astype(np.int64)
    order = jnp.arange(n, dtype=jnp.int32)
    jax.block_until_ready(eager.fasterpam_loop(diss, start, order, 0))           # compile
    row = {"n": n, "k": k,
           "ours_jax": _median_time(lambda: eager.fasterpam_loop(diss, start, order, 100), repeats),
           "kmedoids_fasterpam": _median_time(lambda: kmedoids.fasterpam(dnp, start_np.copy(), n_cpu=1).loss, repeats)}
    core.check_dissimilarity(dnp)        # once: the loop kernel is timed without its input check
    loops.fasterpam_swap(dnp, start_np, max_iter=0, check=False)                  # compile / load
    row["ours_loops"] = _median_time(lambda: loops.fasterpam_swap(dnp, start_np, check=False)[1], repeats)
    if numpy_too:
        row["ours_numpy"] = _median_time(lambda: eager.fasterpam_numpy(dnp, start_np, np.arange(n))[1], repeats)
    row["ratio_jax_over_kmedoids"] = row["ours_jax"] / row["kmedoids_fasterpam"]
    row["ratio_loops_over_kmedoids"] = row["ours_loops"] / row["kmedoids_fasterpam"]
    return row


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="/tmp/fasterpam_bench")
    p.add_argument("--ns", default="1000,2000,5000,10000,20000")
    p.add_argument("--ks", default="2,10,50,100,200")
    p.add_argument("--k_for_n", type=int, default=10)
    p.add_argument("--n_for_k", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    rows = {"vs_n": [], "vs_k": []}
    for n in [int(v) for v in a.ns.split(",")]:
        rows["vs_n"].append(measure(n, a.k_for_n, a.repeats))
        print(rows["vs_n"][-1], flush=True)
    for k in [int(v) for v in a.ks.split(",")]:
        rows["vs_k"].append(measure(a.n_for_k, k, a.repeats))
        print(rows["vs_k"][-1], flush=True)
    with open(os.path.join(a.out, "benchmark.json"), "w") as f:
        json.dump(rows, f, indent=2)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, var in ((axes[0], "vs_n", "n"), (axes[1], "vs_k", "k")):
        xs = [r[var] for r in rows[key]]
        for name, st in (("ours_jax", "o-"), ("ours_numpy", "v:"), ("ours_loops", "D-"), ("kmedoids_fasterpam", "s--")):
            ax.plot(xs, [r[name] for r in rows[key]], st, label=name)
        ax.set(xscale="log", yscale="log", xlabel=var, ylabel="FasterPAM SWAP time [s] (median)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, "benchmark.png"), dpi=120)


if __name__ == "__main__":
    main()
