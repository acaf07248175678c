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
from common import kmedoids as core, kmedoids_loops as loops, kmedoids_swap as baseline
from papers.fasterpam import eager, sampling

EAGER_METHODS = ("fasterpam", "fasterpam_numpy", "rust_fasterpam", "rust_fasterpam_own", "fastclara",
                 "fastclarans", "fasterpam_loops")

Results = records_lib.Results


def plan(config) -> tuple[list[tuple[str, int, int]], list[list[int]]]:
    """Records (method, k, seed) and the work units (lists of record indices), in run order."""
    records, units, add = records_lib.planner()
    for k in config.ks:
        add(("build", k, 0), ("pam", k, 0), ("fastpam1", k, 0))
        add(("rust_pam", k, 0))
    for k in config.eager_ks:
        for s in range(config.n_seeds):
            add(*[(m, k, s) for m in EAGER_METHODS])
    # The speedup claim: PAM (BUILD start) and FasterPAM (LAB start, every seed) timed interleaved, both
    # written as scalar loops (the papers' code style); the same pair in JAX array code is reported too.
    seeds = range(config.n_seeds)
    add(("speed_loop_pam", config.speed_k, 0), *[("speed_loop_fasterpam", config.speed_k, s) for s in seeds])
    add(("speed_pam", config.speed_k, 0), *[("speed_fasterpam", config.speed_k, s) for s in seeds])
    return records, units


def init_results(config) -> Results:
    records, _ = plan(config)
    return records_lib.init_results(len(records), max(max(config.ks), max(config.eager_ks)), config.repeats)


check_data = records_lib.check_data


def check_config(config) -> int:
    """Raises ValueError naming every error of the config, before any work (train and eval call it first);
    returns the number of points n. The exactness claim at exact_ks and the quality claim at eager_ks
    compare with PAM, which runs at the ks only: both must be subsets of ks."""
    n = records_lib.n_points(config)
    errors = records_lib.config_errors(
        config, n, {"ks": config.ks, "exact_ks": config.exact_ks, "eager_ks": config.eager_ks,
                    "speed_k": (config.speed_k,)},
        subsets=[("exact_ks", "ks"), ("eager_ks", "ks")])
    records_lib.raise_config_errors("fasterpam", errors)
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
    runners = {"speed_pam": _speed_pair_jax, "speed_loop_pam": _speed_pair_loops, "rust_pam": _rust_pam}
    if method in runners:
        return runners[method](config, diss, k, unit)
    return _eager_methods(config, diss, k, seed, unit)


def _seed_key(config, k, seed):
    return jax.random.fold_in(jax.random.PRNGKey(config.seed), 1000 * k + seed)


def _eager_row(diss, medoids, t_end, n_swap, max_iter, times) -> dict:
    """A row of an eager run, whose iterations are counted in passes over the data."""
    n = diss.shape[0]
    return records_lib.row(diss, medoids, eager.passes(int(t_end), n, int(n_swap), max_iter), n_swap, times)


def _speed_pair_jax(config, diss, k, unit) -> dict[int, dict]:
    """The speedup pair in JAX array code: PAM from BUILD, then FasterPAM from LAB for every seed, per repeat."""
    start, order = core.build(diss, k), jnp.arange(diss.shape[0], dtype=jnp.int32)
    starts = [core.lab(diss, k, _seed_key(config, k, s)) for s in range(config.n_seeds)]
    jax.block_until_ready(baseline.best_swap_loop(diss, start, method="pam", max_iter=1))   # compile
    jax.block_until_ready(eager.fasterpam_loop(diss, starts[0], order, 0))
    fns = {"pam": partial(baseline.best_swap_loop, diss, start, method="pam", max_iter=config.max_iter)}
    fns.update({s: partial(eager.fasterpam_loop, diss, st, order, config.max_iter) for s, st in enumerate(starts)})
    res, times = records_lib.interleaved(fns, config.repeats)
    p = res["pam"]
    out = {unit[0]: records_lib.row(diss, p.medoids, p.n_iter, p.n_swap, times["pam"])}
    for s in range(config.n_seeds):
        r = res[s]
        out[unit[1 + s]] = _eager_row(diss, r.medoids, r.t, r.n_swap, config.max_iter, times[s])
    return out


def _speed_pair_loops(config, diss, k, unit) -> dict[int, dict]:
    """The speedup pair as scalar loops (the papers' code style), timed as :func:`_speed_pair_jax`."""
    start, dnp = np.asarray(core.build(diss, k)), np.asarray(diss)
    starts = [np.asarray(core.lab(diss, k, _seed_key(config, k, s))) for s in range(config.n_seeds)]
    core.check_dissimilarity(dnp)   # once: the timed runs are the SWAP phase only, as in the papers
    loops.pam_swap(dnp, start, max_iter=1, check=False)          # compile (or load the compiled kernels)
    loops.fasterpam_swap(dnp, starts[0], max_iter=1, check=False)
    fns = {"pam": partial(loops.pam_swap, dnp, start, max_iter=config.max_iter, check=False)}
    fns.update({s: partial(loops.fasterpam_swap, dnp, st, max_iter=config.max_iter, check=False)
                for s, st in enumerate(starts)})
    res, times = records_lib.interleaved(fns, config.repeats)
    out = {unit[0]: records_lib.row(diss, *res["pam"], times["pam"])}
    for s in range(config.n_seeds):
        out[unit[1 + s]] = _eager_row(diss, *res[s], config.max_iter, times[s])
    return out


def _rust_pam(config, diss, k, unit) -> dict[int, dict]:
    """The `kmedoids` package's PAM from BUILD, timed once: the O(k n^2) run serves the exactness claim."""
    import kmedoids
    start = np.asarray(core.build(diss, k)).astype(np.int64)
    r, t = records_lib.timed(lambda: kmedoids.pam(np.asarray(diss), start.copy(), max_iter=config.max_iter))
    return {unit[0]: records_lib.row(diss, r.medoids, r.n_iter, r.n_swap, [t], loss=float(r.loss))}


def _eager_methods(config, diss, k, seed, unit) -> dict[int, dict]:
    """One seed of every eager method (``EAGER_METHODS`` order): FasterPAM in JAX, numpy, the `kmedoids`
    package and numba from one LAB start (interleaved repeats), the package's own random start, FastCLARA
    and FastCLARANS (timed once)."""
    import kmedoids
    key, max_iter, n = _seed_key(config, k, seed), config.max_iter, diss.shape[0]
    start, order = core.lab(diss, k, key), jnp.arange(n, dtype=jnp.int32)
    dnp, start_np = np.asarray(diss), np.asarray(start).astype(np.int64)
    jax.block_until_ready(eager.fasterpam_loop(diss, start, order, 0))     # compile outside the timing
    core.check_dissimilarity(dnp)   # once, outside the timing (the other implementations check nothing)
    loops.fasterpam_swap(dnp, start_np, max_iter=0, check=False)
    fns = {"fasterpam": partial(eager.fasterpam_loop, diss, start, order, max_iter),
           "fasterpam_numpy": partial(eager.fasterpam_numpy, dnp, start_np, np.arange(n), max_iter),
           "rust_fasterpam": lambda: kmedoids.fasterpam(dnp, start_np.copy(), max_iter=max_iter, n_cpu=1),
           "fasterpam_loops": partial(loops.fasterpam_swap, dnp, start_np, max_iter=max_iter, check=False)}
    res, times = records_lib.interleaved(fns, config.repeats)
    own, t_own = records_lib.timed(lambda: kmedoids.fasterpam(dnp, k, max_iter=max_iter, init="random",
                                                              random_state=seed, n_cpu=1))
    clara, t_clara = records_lib.timed(lambda: sampling.fastclara(diss, k, key, n_samples=config.clara_samples,
                                                                  max_iter=max_iter))
    clarans, t_clarans = records_lib.timed(lambda: sampling.fastclarans(diss, k, key, num_local=config.clarans_local))
    f, rust = res["fasterpam"], res["rust_fasterpam"]
    rows = {"fasterpam": _eager_row(diss, f.medoids, f.t, f.n_swap, max_iter, times["fasterpam"]),
            "fasterpam_numpy": _eager_row(diss, *res["fasterpam_numpy"], max_iter, times["fasterpam_numpy"]),
            "rust_fasterpam": records_lib.row(diss, rust.medoids, rust.n_iter, rust.n_swap, times["rust_fasterpam"],
                                              loss=float(rust.loss)),
            "rust_fasterpam_own": records_lib.row(diss, own.medoids, own.n_iter, own.n_swap, [t_own],
                                                  loss=float(own.loss)),
            "fastclara": records_lib.row(diss, clara[0], clara[2], clara[3], [t_clara]),
            "fastclarans": records_lib.row(diss, clarans[0], clarans[2], clarans[3], [t_clarans]),
            "fasterpam_loops": _eager_row(diss, *res["fasterpam_loops"], max_iter, times["fasterpam_loops"])}
    return {j: rows[m] for j, m in zip(unit, EAGER_METHODS)}


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
                                     "papers.fasterpam.train")
    metrics = records_lib.table_metrics(tab, len(units))
    speed = {}
    for k in config.eager_ks:
        fp = np.median([tab[("fasterpam", k, s)]["time"] for s in range(config.n_seeds)])
        fnp = np.median([tab[("fasterpam_numpy", k, s)]["time"] for s in range(config.n_seeds)])
        rust = np.median([tab[("rust_fasterpam", k, s)]["time"] for s in range(config.n_seeds)])
        flp = np.median([tab[("fasterpam_loops", k, s)]["time"] for s in range(config.n_seeds)])
        metrics[f"fasterpam_time/k{k}"], metrics[f"fasterpam_numpy_time/k{k}"] = fp, fnp
        metrics[f"fasterpam_loops_time/k{k}"] = flp
        metrics[f"numpy_over_jax_eager/k{k}"] = fnp / fp
        metrics[f"loops_over_jax_eager/k{k}"] = flp / fp
        metrics[f"ours_over_kmedoids_fasterpam/k{k}"] = fp / rust
        if ("pam", k, 0) in tab:
            metrics[f"speedup_fasterpam_over_pam_separate_units/k{k}"] = tab[("pam", k, 0)]["time"] / fp
    k = config.speed_k
    for prefix, suffix in (("speed_loop_", "loops"), ("speed_", "jax")):
        pam_t = tab[(prefix + "pam", k, 0)]["time"]
        fp_t = np.median([tab[(prefix + "fasterpam", k, s)]["time"] for s in range(config.n_seeds)])
        speed[suffix] = pam_t / fp_t
        metrics[f"speedup_fasterpam_over_pam_{suffix}/k{k}"] = speed[suffix]
        metrics[f"pam_time_{suffix}/k{k}"], metrics[f"fasterpam_time_{suffix}/k{k}"] = pam_t, fp_t
    if k in config.eager_ks:   # the same kernel and starts, timed in the eager units (other moments, other load)
        speed["loops_eager_units"] = metrics[f"pam_time_loops/k{k}"] / metrics[f"fasterpam_loops_time/k{k}"]
        metrics[f"speedup_fasterpam_over_pam_loops_eager_units/k{k}"] = speed["loops_eager_units"]
    for k in config.ks:
        metrics[f"speedup_fastpam1_over_pam/k{k}"] = tab[("pam", k, 0)]["time"] / tab[("fastpam1", k, 0)]["time"]
    claims = make_claims(config, tab, speed, records_lib.loss_rtol(config.float64, n))
    fig = plot_speedup(config, tab, speed, workdir)
    return claims_lib.write_eval(workdir, metrics, claims, [fig])


def _same(a, b) -> bool:
    return sorted(np.asarray(a).tolist()) == sorted(np.asarray(b).tolist())


def _identical(tab, k, method, reference, rtol) -> tuple[int, bool, float, bool]:
    """(k, same medoid sets, relative loss difference, both within rtol) of a method vs the reference."""
    return (k, *records_lib.same_clustering(tab[(method, k, 0)], tab[(reference, k, 0)], rtol))


def make_claims(config, tab, speed, rtol: float) -> list:
    """The claims; ``rtol``: the loss tolerance of the exactness claims (``records_lib.loss_rtol``)."""
    cl = []
    ex = [_identical(tab, k, "fastpam1", "pam", rtol) for k in config.exact_ks]
    cl.append(claims_lib.Claim(
        "fastpam1_equals_pam", f"FastPAM1 returns the same medoids and loss as PAM from the same BUILD "
        f"(k in {list(config.exact_ks)}; loss within n eps = {rtol:.0e})", "identical",
        "; ".join(f"k={k}: medoids {'same' if s else 'DIFFER'}, rel. loss diff {d:.1e}" for k, s, d, _ in ex),
        all(ok for *_, ok in ex)))
    rel = {k: np.mean([tab[("fasterpam", k, s)]["loss"] for s in range(config.n_seeds)]) / tab[("pam", k, 0)]["loss"] - 1
           for k in config.eager_ks if ("pam", k, 0) in tab}
    cl.append(claims_lib.Claim(
        "fasterpam_quality", f"FasterPAM (LAB init) loss within 1% of PAM (mean over {config.n_seeds} seeds)",
        "same quality as PAM", "; ".join(f"k={k}: {100 * v:+.2f}%" for k, v in rel.items()),
        bool(rel) and all(v <= 0.01 for v in rel.values())))
    k = config.speed_k
    other = (f"; FasterPAM's time from the eager units instead: {speed['loops_eager_units']:.3g}x"
             if "loops_eager_units" in speed else "")
    cl.append(claims_lib.Claim(
        "fasterpam_speedup", f"SWAP-phase speedup of FasterPAM over PAM at k={k}, n={config.n or 1797}, both as "
        f"scalar loops in the papers' code style (numba; medians over {config.repeats} interleaved repeats and "
        f"{config.n_seeds} seeds)", ">= 50x (paper: 458x at k=100)",
        f"{speed['loops']:.3g}x (JAX array code: {speed['jax']:.3g}x{other})", speed["loops"] >= 50.0))
    rust = [_identical(tab, k, "pam", "rust_pam", rtol) for k in config.ks]
    cl.append(claims_lib.Claim(
        "pam_equals_kmedoids", "PAM from the same BUILD gives the same medoids and loss as kmedoids.pam (Rust; "
        f"loss within n eps = {rtol:.0e} of the matrix dtype)",
        "identical", "; ".join(f"k={k}: {'same' if s else 'DIFFER'} ({d:.0e})" for k, s, d, _ in rust),
        all(ok for *_, ok in rust)))
    gap = {k: max(abs(tab[("fasterpam", k, s)]["loss"] / tab[("rust_fasterpam", k, s)]["loss"] - 1)
                  for s in range(config.n_seeds)) for k in config.eager_ks}
    same = all(_same(tab[("fasterpam", k, s)]["medoids"], tab[(m, k, s)]["medoids"])
               for m in ("rust_fasterpam", "fasterpam_loops", "fasterpam_numpy")
               for k in config.eager_ks for s in range(config.n_seeds))
    cl.append(claims_lib.Claim(
        "fasterpam_equals_kmedoids", "FasterPAM loss within 0.5% of kmedoids.fasterpam from the same LAB start "
        "(max over seeds)", "within 0.5%",
        "; ".join(f"k={k}: {100 * v:.1e}%" for k, v in gap.items())
        + f" (medoids of ours (JAX, numpy, loops) and kmedoids {'identical' if same else 'differ'})",
        all(v <= 0.005 for v in gap.values())))
    own = {k: np.mean([tab[("fasterpam", k, s)]["loss"] for s in range(config.n_seeds)])
           / np.mean([tab[("rust_fasterpam_own", k, s)]["loss"] for s in range(config.n_seeds)]) - 1
           for k in config.eager_ks}
    cl.append(claims_lib.Claim(
        "fasterpam_vs_kmedoids_random", "mean FasterPAM loss (ours, LAB) within 0.5% of kmedoids.fasterpam with its "
        "own random starts", "within 0.5%", "; ".join(f"k={k}: {100 * v:+.2f}%" for k, v in own.items()),
        all(abs(v) <= 0.005 for v in own.values())))
    return cl


def plot_speedup(config, tab, speed, workdir: str) -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ks = sorted(config.eager_ks)
    fig, ax = plt.subplots(figsize=(6, 4))
    med = lambda m, k: np.median([tab[(m, k, s)]["time"] for s in range(config.n_seeds)])
    ax.plot(sorted(config.ks), [tab[("pam", k, 0)]["time"] for k in sorted(config.ks)], "o-", label="PAM SWAP (ours, JAX)")
    sk = config.speed_k
    ax.plot([sk], [tab[("speed_loop_pam", sk, 0)]["time"]], "o", mfc="none", ms=9, label="PAM SWAP (ours, loops)")
    ax.plot(sorted(config.ks), [tab[("fastpam1", k, 0)]["time"] for k in sorted(config.ks)], "s-",
            label="FastPAM1 SWAP (ours, JAX)")
    for m, st in (("fasterpam", "^-"), ("fasterpam_numpy", "v:"), ("fasterpam_loops", "D-"),
                  ("rust_fasterpam", "^--")):
        ax.plot(ks, [med(m, k) for k in ks], st, label=m.replace("rust_", "kmedoids."))
    ax.set(xscale="log", yscale="log", xlabel="k", ylabel="SWAP time [s] (median)",
           title=f"{config.data}, n={config.n or 1797}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(workdir, "fasterpam_runtime.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    logging.info("wrote %s", path)
    return path
