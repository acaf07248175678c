"""Runtime of PAM and FastPAM1 SWAP (ours: JAX and scalar loops) against the kmedoids package (Rust) vs n and k.

    python -m papers.fastpam.benchmark --out=/tmp/fastpam_bench [--ns=1000,2000,5000,10000,20000]
        [--ks=2,10,50,100,200] [--k_for_n=10] [--n_for_k=2000] [--repeats=3] [--pam_max_k=50]

Data: Gaussian blobs (10 centres, 8 dims), Euclidean, float32. Each point is the median over ``repeats``
runs of the SWAP phase from the same BUILD start (compilation excluded). Naive PAM is only timed up to
--pam_max_k (it is O(k) slower). "loop_" rows are the numba scalar-loop kernels (common.kmedoids_loops). Writes benchmark.json and benchmark.png. kmedoids is benchmark-only.
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


def measure(n: int, k: int, repeats: int, pam_max_k: int) -> dict:
    import kmedoids
    from common import kmedoids as core, kmedoids_loops as loops, kmedoids_swap as swap
    from common import data as data_lib
    x = data_lib.load_clustering_features("blobs", n, seed=0)
    diss = jax.block_until_ready(core.pairwise_dissimilarity(x, "euclidean", jnp.float32))
    dnp = np.asarray(diss)
    start = core.build(diss, k)
    start_np = np.asarray(start).astype(np.int64)
    row = {"n": n, "k": k}
    methods = ("fastpam1", "pam") if k <= pam_max_k else ("fastpam1",)
    for m in methods:
        jax.block_until_ready(swap.best_swap_loop(diss, start, method=m, max_iter=1))   # compile
        row[f"ours_{m}"] = _median_time(lambda: swap.best_swap_loop(diss, start, method=m, max_iter=100), repeats)
    core.check_dissimilarity(dnp)        # once: the loop kernels are timed without their input check
    for m in methods:
        loops.best_swap(dnp, start_np, method=m, max_iter=1, check=False)                 # compile / load
        row[f"loop_{m}"] = _median_time(lambda: loops.best_swap(dnp, start_np, method=m, max_iter=100, check=False),
                                        repeats)
    row["kmedoids_fastpam1"] = _median_time(lambda: kmedoids.fastpam1(dnp, start_np.copy()).loss, repeats)
    if k <= pam_max_k:
        row["kmedoids_pam"] = _median_time(lambda: kmedoids.pam(dnp, start_np.copy()).loss, repeats)
    row["ratio_fastpam1_ours_over_kmedoids"] = row["ours_fastpam1"] / row["kmedoids_fastpam1"]
    return row


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="/tmp/fastpam_bench")
    p.add_argument("--ns", default="1000,2000,5000,10000,20000")
    p.add_argument("--ks", default="2,10,50,100,200")
    p.add_argument("--k_for_n", type=int, default=10)
    p.add_argument("--n_for_k", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--pam_max_k", type=int, default=50)
    a = p.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    rows = {"vs_n": [], "vs_k": []}
    for n in [int(v) for v in a.ns.split(",")]:
        rows["vs_n"].append(measure(n, a.k_for_n, a.repeats, a.pam_max_k))
        print(rows["vs_n"][-1], flush=True)
    for k in [int(v) for v in a.ks.split(",")]:
        rows["vs_k"].append(measure(a.n_for_k, k, a.repeats, a.pam_max_k))
        print(rows["vs_k"][-1], flush=True)
    with open(os.path.join(a.out, "benchmark.json"), "w") as f:
        json.dump(rows, f, indent=2)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, var in ((axes[0], "vs_n", "n"), (axes[1], "vs_k", "k")):
        for name, st in (("ours_pam", "o-"), ("ours_fastpam1", "s-"), ("loop_pam", "o:"), ("loop_fastpam1", "s:"),
                         ("kmedoids_pam", "o--"), ("kmedoids_fastpam1", "s--")):
            pts = [(r[var], r[name]) for r in rows[key] if name in r]
            if pts:
                ax.plot(*zip(*pts), st, label=name)
        ax.set(xscale="log", yscale="log", xlabel=var, ylabel="SWAP time [s] (median)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, "benchmark.png"), dpi=120)


if __name__ == "__main__":
    main()
