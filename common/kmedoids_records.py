"""Checkpointed result tables of k-medoids experiments (fastpam, fasterpam).

A *record* is one (method, k, seed) result: medoids, loss, iterations, swaps and run times. A paper plans
its records and groups them into *work units* (records timed together, e.g. PAM and FastPAM1 interleaved
over the timing repeats). After each unit the whole table is checkpointed, so a killed run resumes at the
next unit and a finished workdir is not recomputed. A finished run also writes every record's medoids and
cluster labels to ``<workdir>/clusterings.npz`` (:func:`save_clusterings`).
"""
from __future__ import annotations

import os
import time
from functools import partial
from typing import Callable, Sequence

import flax
import jax
import jax.numpy as jnp
import numpy as np

from common import checkpoint, data, distributed, kmedoids, kmedoids_swap, metrics as metrics_lib, training

Record = tuple[str, int, int]   # (method, k, seed)


@flax.struct.dataclass
class Results:
    """The checkpointed state: completed units and one row per record. Shapes: [R, ...]."""
    step: jax.Array      # number of completed work units
    medoids: jax.Array   # [R, k_max] int32, -1 padded
    loss: jax.Array      # [R] float64
    n_iter: jax.Array    # [R] int32
    n_swap: jax.Array    # [R] int32
    times: jax.Array     # [R, repeats] float64 seconds (nan where not timed)


def planner():
    """``(records, units, add)``: ``add(*records)`` appends the records as one work unit."""
    records: list[Record] = []
    units: list[list[int]] = []

    def add(*recs: Record):
        units.append([len(records) + j for j in range(len(recs))])
        records.extend(recs)

    return records, units, add


def init_results(n_records: int, k_max: int, repeats: int) -> Results:
    """An empty table (call with float64 enabled)."""
    r = n_records
    return Results(step=jnp.int32(0), medoids=-jnp.ones((r, k_max), jnp.int32),
                   loss=jnp.full((r,), jnp.nan, jnp.float64), n_iter=jnp.zeros((r,), jnp.int32),
                   n_swap=jnp.zeros((r,), jnp.int32), times=jnp.full((r, repeats), jnp.nan, jnp.float64))


def timed(fn):
    """``(fn(), seconds)`` with the result computed (``block_until_ready``) before the clock stops."""
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn())
    return out, time.perf_counter() - t0


def interleaved(fns: dict[str, Callable], repeats: int, once: Sequence[str] = ()):
    """Times every ``fns[name]()`` in each of ``repeats`` rounds, in the dict's order within a round, so all
    see the same machine load. Names in ``once`` run in the first round only. Returns ``(results, times)``:
    the last result and the list of seconds of each name."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1 to time anything, got {repeats}")
    results, times = {}, {name: [] for name in fns}
    for r in range(repeats):
        for name, fn in fns.items():
            if r > 0 and name in once:
                continue
            results[name], t = timed(fn)
            times[name].append(t)
    return results, times


def row(diss: jax.Array, medoids, n_iter, n_swap, times, loss=None) -> dict:
    """One record's row for :func:`store`; the loss is the total deviation of ``medoids`` unless given."""
    medoids = np.asarray(medoids)
    if loss is None:
        loss = kmedoids.total_deviation(diss, jnp.asarray(medoids))
    return dict(medoids=medoids, loss=loss, n_iter=n_iter, n_swap=n_swap, times=list(times))


def build_then_best_swaps(diss: jax.Array, k: int, max_iter: int, repeats: int) -> list[dict]:
    """Rows of BUILD (timed once), then PAM and FastPAM1 SWAP (JAX kernels, ``common.kmedoids_swap``) from it,
    compiled first and timed in interleaved repeats: ``[build, pam, fastpam1]``."""
    start, t_build = timed(lambda: kmedoids.build(diss, k))
    methods = ("pam", "fastpam1")
    for m in methods:      # compile (one iteration) outside the timed runs
        jax.block_until_ready(kmedoids_swap.best_swap_loop(diss, start, method=m, max_iter=1))
    fns = {m: partial(kmedoids_swap.best_swap_loop, diss, start, method=m, max_iter=max_iter) for m in methods}
    res, times = interleaved(fns, repeats)
    return [row(diss, start, 0, 0, [t_build])] + [
        row(diss, res[m].medoids, res[m].n_iter, res[m].n_swap, times[m]) for m in methods]


def store(state: Results, rows: dict[int, dict]) -> Results:
    """Writes ``{record index: {medoids, loss, n_iter, n_swap, times}}`` into the table; one more unit done."""
    med, loss, n_iter, n_swap, times = (np.array(state.medoids), np.array(state.loss), np.array(state.n_iter),
                                        np.array(state.n_swap), np.array(state.times))
    for j, r in rows.items():
        m = np.asarray(r["medoids"]).astype(np.int32)
        med[j, :] = -1
        med[j, : len(m)] = m
        loss[j], n_iter[j], n_swap[j] = float(r["loss"]), int(r["n_iter"]), int(r["n_swap"])
        t = np.asarray(r["times"], np.float64)
        times[j, :] = np.nan
        times[j, : len(t)] = t
    return state.replace(step=state.step + 1, medoids=jnp.asarray(med), loss=jnp.asarray(loss),
                         n_iter=jnp.asarray(n_iter), n_swap=jnp.asarray(n_swap), times=jnp.asarray(times))


def run_units(config, workdir: str, records: Sequence[Record], units: Sequence[list[int]], initial: Results,
              load_dissimilarity: Callable[[], jax.Array],
              run_unit: Callable[[jax.Array, list[int]], dict[int, dict]]) -> Results:
    """Runs the units not yet in the workdir's checkpoint (float64 enabled) and returns the full table.

    ``run_unit(diss, unit)`` returns the unit's rows for :func:`store`; the dissimilarity matrix is loaded
    only when there is work left. Saves every ``config.checkpoint_every`` units and after the last one;
    logs loss and median time of each record every ``config.log_every`` units.
    """
    with jax.enable_x64(True):
        ckpt = checkpoint.Checkpointer(workdir, config, save_every=config.checkpoint_every)
        try:
            state = ckpt.restore_or(initial)
            start = int(state.step)
            if start >= len(units):
                if not os.path.exists(clusterings_path(workdir)):
                    save_clusterings(workdir, records, state, load_dissimilarity())
                return state
            diss = load_dissimilarity()
            writer = metrics_lib.MetricsWriter(workdir)
            progress = metrics_lib.Progress(len(units), start, interval=10.0, name="units")
            try:
                for u in range(start, len(units)):
                    rows = run_unit(diss, units[u])
                    state = store(state, rows)
                    ckpt.save(u + 1, state, force=(u + 1 == len(units)))
                    if (u + 1) % config.log_every == 0:
                        writer.write(u + 1, {f"{records[j][0]}_k{records[j][1]}_s{records[j][2]}_{name}": v
                                             for j, r in rows.items() for name, v in
                                             (("loss", float(r["loss"])), ("time", float(np.median(r["times"]))))})
                    progress.update(u + 1, force=(u + 1 == len(units)))
            finally:
                writer.close()
            save_clusterings(workdir, records, state, diss)
            return state
        finally:
            ckpt.close()


def clusterings_path(workdir: str) -> str:
    return os.path.join(workdir, "clusterings.npz")


def save_clusterings(workdir: str, records: Sequence[Record], state: Results, diss: jax.Array) -> str:
    """Writes ``clusterings.npz``: per record j, ``methods[j]``, ``ks[j]``, ``seeds[j]``, ``medoids[j]`` [k_max]
    (-1 padded) and ``labels[j]`` [n] (the slot of each point's nearest medoid, a medoid in its own cluster;
    -1 for a record without medoids). Load with ``np.load(path)`` (no pickle) or :func:`load_clusterings`.
    Written by process 0, atomically."""
    path = clusterings_path(workdir)
    if not distributed.is_chief():
        return path
    medoids = np.asarray(state.medoids)
    labels = np.full((len(records), diss.shape[0]), -1, np.int32)
    for j, (_, k, _) in enumerate(records):
        if (medoids[j, :k] >= 0).all():
            labels[j] = kmedoids.labels_of(diss, medoids[j, :k])
    methods, ks, seeds = zip(*records)
    tmp = path + ".tmp.npz"
    np.savez(tmp, methods=np.array(methods), ks=np.array(ks), seeds=np.array(seeds), medoids=medoids,
             labels=labels)
    os.replace(tmp, path)
    return path


def load_clusterings(workdir: str) -> dict[Record, tuple[np.ndarray, np.ndarray]]:
    """``{(method, k, seed): (medoids [k], labels [n])}`` from a finished workdir's ``clusterings.npz``."""
    with np.load(clusterings_path(workdir)) as f:
        return {(str(m), int(k), int(s)): (med[:k], lab)
                for m, k, s, med, lab in zip(f["methods"], f["ks"], f["seeds"], f["medoids"], f["labels"])}


def load_table(config, workdir: str, records: Sequence[Record], n_units: int, initial: Results,
               train_module: str) -> dict[Record, dict]:
    """The finished table as ``{(method, k, seed): {medoids, loss, n_iter, n_swap, time}}`` (time: median
    over the repeats). Raises (:func:`common.training.load_finished_units`) naming the train command when
    the checkpoint or some units are missing."""
    with jax.enable_x64(True):
        state = training.load_finished_units(workdir, config, initial, n_units, train_module)
        tab = {}
        for j, (m, k, s) in enumerate(records):
            t = np.asarray(state.times[j])
            tab[(m, k, s)] = dict(medoids=np.asarray(state.medoids[j])[:k], loss=float(state.loss[j]),
                                  n_iter=int(state.n_iter[j]), n_swap=int(state.n_swap[j]),
                                  time=float(np.nanmedian(t)) if np.isfinite(t).any() else float("nan"))
    return tab


def table_metrics(tab: dict[Record, dict], n_units: int) -> dict:
    """Flat eval metrics of every record: ``<method>/k<k>/s<seed>/{loss,n_iter,n_swap,time}``."""
    metrics = {"n_units": n_units}
    for (m, k, s), r in tab.items():
        for name in ("loss", "n_iter", "n_swap", "time"):
            metrics[f"{m}/k{k}/s{s}/{name}"] = r[name]
    return metrics


def n_points(config) -> int:
    """Number of points the config clusters (loads its data set; raises ``DataNotFoundError`` when missing)."""
    return len(data.load_clustering_features(config.data, config.n, seed=config.seed, data_dir=config.data_dir))


def config_errors(config, n: int, k_lists: dict[str, Sequence[int]], subsets: Sequence[tuple[str, str]]) -> list[str]:
    """The errors of a k-medoids experiment config that clusters ``n`` points, as messages naming the keys.

    ``k_lists`` maps a key to its values of k (non-empty, each in [1, n): the SWAP kernels and LAB need at
    least one non-medoid); ``subsets`` are (key, superset key) pairs, e.g. the ks of an
    exactness claim, which compares records of the k sweep and needs every such k to be run there.
    """
    errors = []
    if config.metric not in kmedoids.METRICS:
        errors.append(f"metric={config.metric!r} must be one of {kmedoids.METRICS}")
    for name in ("repeats", "n_seeds", "max_iter", "clara_samples", "clarans_local", "checkpoint_every",
                 "log_every"):
        if int(config[name]) < 1:
            errors.append(f"{name}={config[name]} must be >= 1")
    for name, ks in k_lists.items():
        ks = tuple(ks)
        if not ks or any(int(k) != k or not 1 <= k < n for k in ks):
            errors.append(f"{name}={ks} must be a non-empty list of integers k with 1 <= k < n = {n} "
                          f"(the number of points of data={config.data!r}, n={config.n})")
    for sub, sup in subsets:
        missing = sorted(set(config[sub]) - set(config[sup]))
        if missing:
            errors.append(f"{sub}={tuple(config[sub])} must be a subset of {sup}={tuple(config[sup])} "
                          f"(not run there: {missing})")
    return errors


def raise_config_errors(paper: str, errors: Sequence[str]) -> None:
    """Raises ValueError listing every error (nothing has been run or written yet)."""
    if errors:
        raise ValueError(f"invalid {paper} config (nothing was run):\n  " + "\n  ".join(errors))


def loss_rtol(float64: bool, n: int) -> float:
    """Relative tolerance for two total deviations of the same medoids summed in a different order:
    n * eps of the matrix dtype, the classical bound (n - 1) u, u = eps / 2, on the rounding error of a
    sum of n non-negative terms, with a factor 2 to spare. float64, n = 1797: 4e-13; float32: 2e-4."""
    eps = np.finfo(np.float64 if float64 else np.float32).eps
    return float(n * eps)


def same_clustering(a: dict, b: dict, rtol: float) -> tuple[bool, float, bool]:
    """(same medoid sets, relative loss difference |a - b| / |b|, both hold within ``rtol``) of two rows."""
    same = sorted(np.asarray(a["medoids"]).tolist()) == sorted(np.asarray(b["medoids"]).tolist())
    diff = abs(a["loss"] - b["loss"]) / abs(b["loss"]) if b["loss"] else abs(a["loss"])
    return same, float(diff), bool(same and diff <= rtol)


def check_data(config) -> None:
    """The clustering data of a config (``config.data`` from ``config.data_dir``), before any work."""
    data.check_all({"data_dir": lambda: data.load_clustering_features(config.data, config.n, seed=config.seed,
                                                                      data_dir=config.data_dir)})
