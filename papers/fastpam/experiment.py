"""Train (run the clustering experiments, checkpointed per work unit) and evaluate (claims, figure).

Records (method, k, seed) and work units are planned here; the checkpointed result table, its training
loop and its loader are ``common.kmedoids_records``. Train and eval check the config first
(:func:`check_config`), before any work or write.
"""
from __future__ import annotations

import logging
import os
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from common import claims as claims_lib, data as data_lib, kmedoids_records as records_lib
from common import kmedoids as core, kmedoids_loops as loops, kmedoids_swap as swap
from papers.fastpam import sampling

SWAP_METHODS = ("pam", "fastpam1")
LOOP_METHODS = ("loop_pam", "loop_fastpam1")     # the papers' code style (scalar loops, numba)
RUST_METHODS = ("rust_pam", "rust_fastpam1", "rust_fasterpam")
SEEDED_METHODS = ("fastpam2_lab", "clara", "fastclara", "clarans", "fastclarans")

Results = records_lib.Results


def plan(config) -> tuple[list[tuple[str, int, int]], list[list[int]]]:
    """Records (method, k, seed) and the work units (lists of record indices), in run order."""
    records, units, add = records_lib.planner()
    for k in config.ks:
        add(("build", k, 0), ("pam", k, 0), ("fastpam1", k, 0))
        add(*[(m, k, 0) for m in LOOP_METHODS])
        add(*[(m, k, 0) for m in RUST_METHODS])
        add(("fastpam2_build", k, 0))
    for k in config.quality_ks:
        for s in range(config.n_seeds):
            add(*[(m, k, s) for m in SEEDED_METHODS])
    return records, units


def init_results(config) -> Results:
    records, _ = plan(config)
    return records_lib.init_results(len(records), max(max(config.ks), max(config.quality_ks)), config.repeats)


check_data = records_lib.check_data


def check_config(config) -> int:
    """Raises ValueError naming every error of the config, before any work (train and eval call it first);
    returns the number of points n. The claims compare records across lists of k: exactness and quality
    at exact_ks and quality_ks need PAM run there, i.e. both must be subsets of the sweep ks."""
    n = records_lib.n_points(config)
    errors = records_lib.config_errors(
        config, n, {"ks": config.ks, "exact_ks": config.exact_ks, "quality_ks": config.quality_ks},
        subsets=[("exact_ks", "ks"), ("quality_ks", "ks")])
    records_lib.raise_config_errors("fastpam", errors)
    return n


def load_dissimilarity(config) -> jax.Array:
    x = data_lib.load_clustering_features(config.data, config.n, seed=config.seed, data_dir=config.data_dir)
    dtype = jnp.float64 if config.float64 else jnp.float32
    return jax.block_until_ready(core.pairwise_dissimilarity(x, config.metric, dtype))


def run_unit(config, diss, records, unit) -> dict[int, dict]:
    """Runs one work unit and returns {record index: {medoids, loss, n_iter, n_swap, times}}."""
    method, k, seed = records[unit[0]]
    if method == "build":
        return dict(zip(unit, records_lib.build_then_best_swaps(diss, k, config.max_iter, config.repeats)))
    if method in LOOP_METHODS:
        return _loop_swaps(config, diss, k, unit)
    if method in RUST_METHODS:
        return _rust_swaps(config, diss, k, unit)
    if method == "fastpam2_build":
        return _fastpam2_from_build(config, diss, k, unit)
    key = jax.random.fold_in(jax.random.PRNGKey(config.seed), 1000 * k + seed)
    return {j: _seeded(config, diss, k, key, records[j][0]) for j in unit}


def _loop_swaps(config, diss, k, unit) -> dict[int, dict]:
    """PAM and FastPAM1 SWAP as scalar loops (the papers' code style) from BUILD, interleaved repeats."""
    start, dnp = np.asarray(core.build(diss, k)), np.asarray(diss)
    core.check_dissimilarity(dnp)   # once: the timed runs are the SWAP phase only, as in the papers
    for m in SWAP_METHODS:      # compile (or load the compiled kernels) outside the timed runs
        loops.best_swap(dnp, start, method=m, max_iter=1, check=False)
    fns = {lm: partial(loops.best_swap, dnp, start, method=m, max_iter=config.max_iter, check=False)
           for lm, m in zip(LOOP_METHODS, SWAP_METHODS)}
    res, times = records_lib.interleaved(fns, config.repeats)
    return {j: records_lib.row(diss, *res[m], times[m]) for j, m in zip(unit, LOOP_METHODS)}


def _rust_swaps(config, diss, k, unit) -> dict[int, dict]:
    """The `kmedoids` package's PAM, FastPAM1 and FasterPAM from BUILD (PAM timed once: exactness only)."""
    import kmedoids
    start, dnp, max_iter = np.asarray(core.build(diss, k)).astype(np.int64), np.asarray(diss), config.max_iter
    fns = {"rust_pam": lambda: kmedoids.pam(dnp, start.copy(), max_iter=max_iter),
           "rust_fastpam1": lambda: kmedoids.fastpam1(dnp, start.copy(), max_iter=max_iter),
           "rust_fasterpam": lambda: kmedoids.fasterpam(dnp, start.copy(), max_iter=max_iter, n_cpu=1)}
    res, times = records_lib.interleaved(fns, config.repeats, once=("rust_pam",))
    return {j: records_lib.row(diss, res[m].medoids, int(res[m].n_iter), int(res[m].n_swap), times[m],
                               loss=float(res[m].loss)) for j, m in zip(unit, RUST_METHODS)}


def _fastpam2_from_build(config, diss, k, unit) -> dict[int, dict]:
    """FastPAM2 (several swaps per iteration) from BUILD, timed once after compilation."""
    start = core.build(diss, k)
    jax.block_until_ready(swap.fastpam2_loop(diss, start, max_iter=1))
    s, t = records_lib.timed(lambda: swap.fastpam2_loop(diss, start, max_iter=config.max_iter))
    return {unit[0]: records_lib.row(diss, s.medoids, s.n_iter, s.n_swap, [t])}


def _seeded(config, diss, k, key, method) -> dict:
    """One seeded run: FastPAM2 from LAB, (Fast)CLARA or (Fast)CLARANS."""
    if method == "fastpam2_lab":
        def fn():
            s = swap.fastpam2_loop(diss, core.lab(diss, k, key), max_iter=config.max_iter)
            return s.medoids, s.n_iter, s.n_swap
    elif method in ("clara", "fastclara"):
        def fn():
            med, _, it, sw = sampling.clara(diss, k, key, n_samples=config.clara_samples,
                                            fast=(method == "fastclara"), max_iter=config.max_iter)
            return med, it, sw
    else:
        def fn():
            med, _, it, sw = sampling.clarans(diss, k, key, num_local=config.clarans_local,
                                              fast=(method == "fastclarans"))
            return med, it, sw
    (med, it, sw), t = records_lib.timed(fn)
    return records_lib.row(diss, med, it, sw, [t])


def train(config, workdir: str) -> Results:
    """Runs all work units not yet in the workdir's checkpoint; returns the full result table."""
    check_config(config)
    with jax.enable_x64(True):
        records, units = plan(config)
        return records_lib.run_units(config, workdir, records, units, init_results(config),
                                     lambda: load_dissimilarity(config),
                                     lambda diss, unit: run_unit(config, diss, records, unit))


def train_and_evaluate(config, workdir: str):
    train(config, workdir)
    return evaluate(config, workdir)


# ------------------------------------------------------------------ evaluation

def evaluate(config, workdir: str) -> dict:
    """Loads the finished results, computes the claims and the speedup figure, writes eval.json."""
    n = check_config(config)
    with jax.enable_x64(True):
        records, units = plan(config)
        tab = records_lib.load_table(config, workdir, records, len(units), init_results(config),
                                     "papers.fastpam.train")
    metrics = records_lib.table_metrics(tab, len(units))
    speed = {k: tab[("loop_pam", k, 0)]["time"] / tab[("loop_fastpam1", k, 0)]["time"] for k in config.ks}
    speed_jax = {k: tab[("pam", k, 0)]["time"] / tab[("fastpam1", k, 0)]["time"] for k in config.ks}
    for k in config.ks:
        metrics[f"speedup_fastpam1_over_pam_loops/k{k}"] = speed[k]
        metrics[f"speedup_fastpam1_over_pam_jax/k{k}"] = speed_jax[k]
        metrics[f"ratio_ours_fastpam1_over_rust_fastpam1/k{k}"] = (tab[("fastpam1", k, 0)]["time"]
                                                                   / tab[("rust_fastpam1", k, 0)]["time"])
    claims = make_claims(config, tab, speed, records_lib.loss_rtol(config.float64, n))
    fig = plot_speedup(config, tab, speed, speed_jax, workdir)
    return claims_lib.write_eval(workdir, metrics, claims, [fig])


def _identical(tab, k, methods, reference, rtol) -> tuple[int, bool, float, bool]:
    """(k, same medoid sets, max relative loss difference, all within rtol) of methods vs the reference."""
    res = [records_lib.same_clustering(tab[(m, k, 0)], tab[(reference, k, 0)], rtol) for m in methods]
    return k, all(r[0] for r in res), max(r[1] for r in res), all(r[2] for r in res)


def make_claims(config, tab, speed, rtol: float) -> list:
    """The claims; ``rtol``: the loss tolerance of the exactness claims (``records_lib.loss_rtol``)."""
    cl = []
    ex = [_identical(tab, k, ("fastpam1", "loop_pam", "loop_fastpam1"), "pam", rtol) for k in config.exact_ks]
    cl.append(claims_lib.Claim(
        "fastpam1_equals_pam", f"FastPAM1 returns the same medoids and loss as PAM from the same BUILD "
        f"(k in {list(config.exact_ks)}; JAX and scalar-loop versions of both; loss within n eps = {rtol:.0e})",
        "identical",
        "; ".join(f"k={k}: medoids {'same' if s else 'DIFFER'}, max rel. loss diff {d:.1e}" for k, s, d, _ in ex),
        all(ok for *_, ok in ex)))
    k_lo, k_hi = min(config.ks), max(config.ks)
    style = "both as scalar loops in the papers' code style, numba"
    cl.append(claims_lib.Claim(
        "speedup_small_k", f"SWAP speedup of FastPAM1 over PAM at k={k_lo} ({style}; medians of {config.repeats} "
        "interleaved repeats)", ">= 1.5x at k=2", f"{speed[k_lo]:.2f}x", speed[k_lo] >= 1.5))
    cl.append(claims_lib.Claim(
        "speedup_large_k", f"SWAP speedup of FastPAM1 over PAM at k={k_hi} ({style})", ">= 10x at k=50 (O(k))",
        f"{speed[k_hi]:.1f}x", speed[k_hi] >= 10.0))
    ordered = [speed[k] for k in sorted(config.ks)]
    grows = all(b > a for a, b in zip(ordered, ordered[1:]))
    cl.append(claims_lib.Claim(
        "speedup_grows_with_k", f"the FastPAM1/PAM speedup increases with k ({style})", "grows ~linearly in k",
        ", ".join(f"k={k}: {speed[k]:.1f}x" for k in sorted(config.ks)), grows))
    rel = {k: [tab[("fastpam2_lab", k, s)]["loss"] / tab[("pam", k, 0)]["loss"] - 1 for s in range(config.n_seeds)]
           for k in config.quality_ks if ("pam", k, 0) in tab}
    cl.append(claims_lib.Claim(
        "fastpam2_lab_quality", f"FastPAM2 + LAB loss within 1% of PAM (mean over {config.n_seeds} seeds)",
        "comparable quality", "; ".join(f"k={k}: {100 * np.mean(v):+.2f}%" for k, v in rel.items()),
        bool(rel) and all(np.mean(v) <= 0.01 for v in rel.values())))
    rust = [_identical(tab, k, ("pam",), "rust_pam", rtol) for k in config.ks]
    cl.append(claims_lib.Claim(
        "pam_equals_kmedoids", "PAM from the same BUILD gives the same medoids and loss as kmedoids.pam (Rust; "
        f"loss within n eps = {rtol:.0e} of the matrix dtype)",
        "identical", "; ".join(f"k={k}: {'same' if s else 'DIFFER'} ({d:.0e})" for k, s, d, _ in rust),
        all(ok for *_, ok in rust)))
    for fast, slow, name in (("fastclara", "clara", "FastCLARA"), ("fastclarans", "clarans", "FastCLARANS")):
        r = {k: np.mean([tab[(fast, k, s)]["loss"] / tab[(slow, k, s)]["loss"] for s in range(config.n_seeds)])
             for k in config.quality_ks}
        cl.append(claims_lib.Claim(
            f"{fast}_quality", f"{name} loss <= {name[4:]} loss (mean ratio over {config.n_seeds} seeds)",
            "better quality", "; ".join(f"k={k}: ratio {v:.3f}" for k, v in r.items()),
            all(v <= 1.0 for v in r.values())))
    return cl


def plot_speedup(config, tab, speed, speed_jax, workdir: str) -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ks = sorted(config.ks)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    for m, style in (("loop_pam", "o-"), ("loop_fastpam1", "s-"), ("pam", "o:"), ("fastpam1", "s:"),
                     ("rust_pam", "o--"), ("rust_fastpam1", "s--"), ("rust_fasterpam", "^--")):
        label = m.replace("rust_", "kmedoids.").replace("loop_", "loops: ")
        a1.plot(ks, [tab[(m, k, 0)]["time"] for k in ks], style, label=label if "_" in m else f"JAX: {m}")
    a1.set(xscale="log", yscale="log", xlabel="k", ylabel="SWAP time [s] (median)", title="SWAP run time")
    a1.legend(fontsize=7)
    a2.plot(ks, [speed[k] for k in ks], "o-", label="scalar loops (numba): PAM / FastPAM1")
    a2.plot(ks, [speed_jax[k] for k in ks], "o:", label="JAX array code: PAM / FastPAM1")
    a2.plot(ks, [tab[("rust_pam", k, 0)]["time"] / tab[("rust_fastpam1", k, 0)]["time"] for k in ks], "s--",
            label="kmedoids: pam / fastpam1")
    a2.axhline(1.0, color="gray", lw=0.5)
    a2.set(xscale="log", yscale="log", xlabel="k", ylabel="speedup", title="FastPAM1 speedup over PAM")
    a2.legend(fontsize=7)
    fig.tight_layout()
    path = os.path.join(workdir, "speedup_vs_k.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    logging.info("wrote %s", path)
    return path
