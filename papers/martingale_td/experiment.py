"""train_and_evaluate / evaluate of the martingale policy-evaluation reproduction.

"Training" runs a list of work units (simulate paths, fit every method, store parameters and the
sufficient statistics of the offline methods). The config is checked first (``check_config``: every
unusable value is named before anything is written). Each unit's results must be finite (``checked_values``),
then the state is checkpointed, so a killed run resumes at the next unit and a second run on a finished
workdir does nothing. ``evaluate`` reads the state, measures the relative L2 errors against the closed-form
value functions on independent evaluation paths, computes the exact infinite-path estimators
(``moments.expected_statistics``), the jackknife standard errors of the Monte Carlo ones, checks the claims
and draws the figures.

Keys: problem key = fold_in(PRNGKey(seed), problem index); the main fits use fold_in(problem key, 0); batch g
of the claim-2 Monte Carlo fold_in(fold_in(., 5000), g), of the convergence study fold_in(fold_in(., 1000), g);
evaluation paths fold_in(., 2000). All grids of one path set share one Brownian motion.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import os
import time

import flax
import jax
import jax.numpy as jnp
import numpy as np

from common import checkpoint as ckpt_lib
from common import claims as claims_lib
from common import distributed
from common import metrics as metrics_lib
from common import training
from common import config as config_lib
from papers.martingale_td import methods, moments, sde
from papers.martingale_td import value as value_lib

ONLINE = ("td0", "td_lambda", "ml_gmc")
LINEAR = methods.LINEAR_OFFLINE + ONLINE         # rows of the stored theta arrays
NEURAL = ("nn_ml", "nn_td")
PROBLEM_INDEX = {"ou": 0, "mv": 1}
CLAIMS = ["1_recovery_vs_mstde", "2_error_vs_dt", "3_discretisation_rate", "4_mean_variance"]


@flax.struct.dataclass
class ExperimentState:
    step: jax.Array          # number of finished work units
    results: dict            # unit name -> dict of arrays


@dataclasses.dataclass(frozen=True)
class Unit:
    name: str
    problem: str             # 'ou' | 'mv'
    kind: str                # 'main' (all methods) | 'pool' (claim 2 batches) | 'conv' (claim 3 dt study)
    stride: int = 1
    rep: int = 0


def build_units(config) -> list[Unit]:
    units = [Unit(f"ou/main/s{s}", "ou", "main", stride=s) for s in config.strides]
    units += [Unit(f"ou/pool{u}", "ou", "pool", rep=u) for u in range(config.pool.units)]
    units += [Unit(f"ou/conv{u}", "ou", "conv", rep=u) for u in range(config.conv.units_ou)]
    units += [Unit(f"mv/main/s{min(config.strides)}", "mv", "main", stride=min(config.strides))]
    units += [Unit(f"mv/conv{u}", "mv", "conv", rep=u) for u in range(config.conv.units_mv)]
    return units


def conv_strides(config) -> tuple:
    """Grids of the convergence study: conv.strides and the reference grid (stride 1)."""
    return tuple(int(s) for s in config.conv.strides) + (1,)


def _grid_problems(prefix: str, n_fine: int, strides, seg_len: int, rng_block: int) -> list[str]:
    """Why the grids dt = T s / n_fine (s in strides) cannot be simulated by ``moments.MomentSampler``."""
    bad = []
    if n_fine < 1 or n_fine % rng_block:
        bad.append(f"{prefix}n_fine = {n_fine} must be a positive multiple of rng_block = {rng_block}")
    for s in strides:
        if s < 1 or n_fine % s or (n_fine // s) % seg_len:
            bad.append(f"{prefix}strides / {prefix}n_fine: stride {s} must split {prefix}n_fine = {n_fine} into a "
                       f"whole number of steps that is a multiple of seg_len = {seg_len}")
    return bad


def _grid_config_problems(config) -> list[str]:
    """Problems of the grids of the main study (claims 1, 2, 4) and the convergence study (claim 3)."""
    if config.seg_len < 1 or config.rng_block < 1:
        return [f"seg_len = {config.seg_len} and rng_block = {config.rng_block} must be >= 1"]
    bad = []
    strides = tuple(int(s) for s in config.strides)
    if len(set(strides)) < 2:
        bad.append(f"strides = {strides} must hold at least two different grids (claim 2 compares them)")
    bad += _grid_problems("", config.n_fine, strides, config.seg_len, config.rng_block)
    conv = tuple(int(s) for s in config.conv.strides)
    if len(set(conv)) < 2 or min(conv) <= 1:
        bad.append(f"conv.strides = {conv} must hold at least two different strides > 1 (1 is the reference grid)")
    bad += _grid_problems("conv.", config.conv.n_fine, conv + (1,), config.seg_len, config.rng_block)
    for key, block, units, unit_keys in (
            ("pool", config.pool, (config.pool.units,), "pool.units"),
            ("conv", config.conv, (config.conv.units_ou, config.conv.units_mv), "conv.units_ou / conv.units_mv")):
        n_batches = [u * block.batches_per_unit for u in units]
        if block.batch_paths < 1 or min(n_batches) < 2:
            bad.append(f"{key}.batch_paths = {block.batch_paths} must be >= 1 and {unit_keys} x "
                       f"{key}.batches_per_unit >= 2 batches per problem (jackknife), got {n_batches}")
    return bad


def _method_config_problems(config) -> list[str]:
    """Problems of the value features, test functions, path counts and the online / neural fits."""
    bad = []
    if min(config.time_degree, config.mv_time_degree) < 1:
        bad.append(f"time_degree = {config.time_degree} and mv_time_degree = {config.mv_time_degree} must be >= 1")
    if config.test_degree <= config.time_degree:
        bad.append(f"test_degree = {config.test_degree} must exceed time_degree = {config.time_degree} "
                   "(GTD needs more test functions than parameters)")
    if not 0.0 < config.td_lambda <= 1.0:
        bad.append(f"td_lambda = {config.td_lambda} must lie in (0, 1]")
    if config.chunk < 1 or config.n_paths % min(config.chunk, config.n_paths):
        bad.append(f"n_paths = {config.n_paths} must be a multiple of chunk = {config.chunk} (chunk >= 1)")
    brief = config.n_paths_brief
    if not 0 < brief <= config.n_paths or brief % min(max(config.chunk, 1), brief):
        bad.append(f"n_paths_brief = {brief} must lie in [1, n_paths = {config.n_paths}] and be a multiple of "
                   f"chunk = {config.chunk}")
    on = config.online
    if on.epochs < 0 or on.batch_paths < 1 or (on.epochs > 0 and config.n_paths % on.batch_paths):
        bad.append(f"online.epochs = {on.epochs} must be >= 0 (0: off) and n_paths = {config.n_paths} a "
                   f"multiple of online.batch_paths = {on.batch_paths}")
    if config.neural.steps < 0 or config.neural.batch_paths < 1:
        bad.append(f"neural.steps = {config.neural.steps} must be >= 0 (0: off), neural.batch_paths >= 1")
    if min(config.eval_paths, config.eval_steps) < 1:
        bad.append(f"eval_paths = {config.eval_paths} and eval_steps = {config.eval_steps} must be >= 1")
    return bad


def config_problems(config) -> list[str]:
    """Every unusable config value, each naming its key and the values that work (empty: the config runs)."""
    bad = [f"{name}.name = {problem_config(config, name).name!r} must be {name!r}"
           for name in ("ou", "mv") if problem_config(config, name).name != name]
    return bad + _grid_config_problems(config) + _method_config_problems(config)


def check_config(config) -> None:
    """Raises ConfigError naming every unusable value, before any work or write."""
    config_lib.raise_if_invalid(config_problems(config), "martingale_td")


_SAMPLERS: dict = {}


def sampler(config, name: str, n_paths: int) -> moments.MomentSampler:
    """The moment accumulator of one problem (compiled once per problem and batch size)."""
    problem = get_problem(config, name)
    td = time_degree(config, name)
    key = (id(problem), n_paths, td, test_degree(config, td), config.td_lambda, config.seg_len, config.rng_block)
    if key not in _SAMPLERS or _SAMPLERS[key].problem is not problem:
        _SAMPLERS[key] = moments.MomentSampler(problem, n_paths, td, test_degree(config, td), config.td_lambda,
                                               config.seg_len, config.rng_block)
    return _SAMPLERS[key]


def problem_config(config, name):
    return config.ou if name == "ou" else config.mv


def time_degree(config, name) -> int:
    return config.time_degree if name == "ou" else config.mv_time_degree


def problem_key(config, name):
    return jax.random.fold_in(jax.random.PRNGKey(config.seed), PROBLEM_INDEX[name])


_SIM_CACHE: dict = {}


@functools.partial(jax.jit, static_argnums=(4, 5))
def _increments(key, x0_mean, x0_std, dw_scale, n_paths: int, n_fine: int):
    """X_0 and fine Brownian increments as in ``sde.simulate``; the problem's constants are arguments, so one
    compiled program serves every problem of the same sizes."""
    k0, kw = jax.random.split(key)
    x0 = x0_mean + x0_std * jax.random.normal(k0, (n_paths,), jnp.float64)
    return x0, jax.random.normal(kw, (n_paths, n_fine), jnp.float64) * dw_scale


def _euler_program(problem):
    """Jitted Euler-Maruyama of one problem on the grid of a static stride, cached per problem."""
    if id(problem) not in _SIM_CACHE or _SIM_CACHE[id(problem)][0] is not problem:
        def euler(x0, dw_fine, stride):
            return sde.euler_maruyama(problem, x0, sde.coarsen(dw_fine, stride))
        _SIM_CACHE[id(problem)] = (problem, jax.jit(euler, static_argnums=(2,)))
    return _SIM_CACHE[id(problem)][1]


def replication_paths(problem, key, n_paths: int, n_fine: int, stride: int):
    """Paths of one replication on the grid dt = T stride / n_fine (one Brownian motion for all strides).

    Same result as ``sde.simulate``; the jitted pieces are cached so units do not recompile.
    """
    x0, dw = _increments(key, problem.x0_mean, problem.x0_std, math.sqrt(problem.horizon / n_fine), n_paths, n_fine)
    return _euler_program(problem)(x0, dw, stride)


_PROBLEMS: dict = {}


def get_problem(config, name: str) -> sde.Problem:
    """The Problem of a config block, one object per distinct block (so jitted programs are reused)."""
    block = problem_config(config, name)
    ck = (name, tuple(sorted(block.items())))
    if ck not in _PROBLEMS:
        _PROBLEMS[ck] = sde.make_problem(block)
    return _PROBLEMS[ck]


def test_degree(config, td) -> int:
    """GTD test functions: test_degree - time_degree more time polynomials than the value features."""
    return td + (config.test_degree - config.time_degree)


def statistics(config, problem, td, ts, xs):
    chunk = min(config.chunk, xs.shape[0])
    return methods.batch_statistics(problem, ts, xs, td, test_degree(config, td), config.td_lambda, chunk=chunk)


_OFFLINE_CACHE: dict = {}


def offline_program(config, name: str):
    """A jitted (ts, xs) -> statistics of the offline methods for one problem, cached per (config, problem)."""
    key = (id(config), id(get_problem(config, name)))
    if key not in _OFFLINE_CACHE:
        problem = get_problem(config, name)
        td = time_degree(config, name)

        @jax.jit
        def program(ts, xs):
            return statistics(config, problem, td, ts, xs)
        _OFFLINE_CACHE.clear()
        _OFFLINE_CACHE[key] = program
    return _OFFLINE_CACHE[key]


def eval_paths(config, name, problem):
    key = jax.random.fold_in(problem_key(config, name), 2000)
    return replication_paths(problem, key, config.eval_paths, config.eval_steps, 1)


# ----------------------------------------------------------------------------- templates (shapes of results)

_TEMPLATES: dict = {}


def _stats_template(config, problem, td):
    """Shapes of ``methods.batch_statistics`` (traced once per problem and degrees, then cached)."""
    key = (id(problem), td, test_degree(config, td), float(config.td_lambda))
    if key not in _TEMPLATES or _TEMPLATES[key][0] is not problem:
        ts = jnp.linspace(0.0, problem.horizon, 3)
        xs = jnp.zeros((1, 3))
        _TEMPLATES[key] = (problem, jax.eval_shape(lambda: methods.batch_statistics(
            problem, ts, xs, td, test_degree(config, td), config.td_lambda, chunk=1)))
    return _TEMPLATES[key][1]


def unit_template(config, unit: Unit) -> dict:
    problem = get_problem(config, unit.problem)
    td = time_degree(config, unit.problem)
    d = value_lib.num_linear_features(td)
    zeros = lambda shape, dtype=jnp.float64: jnp.asarray(np.zeros(shape, dtype))   # no XLA program per shape
    stats = _stats_template(config, problem, td)
    if unit.kind == "main":
        stats = jax.tree.map(lambda a: zeros(a.shape, a.dtype), stats)
        return {"stats": stats, "stats_brief": stats, "theta": zeros((len(LINEAR), d)),
                "nn_err": zeros((len(NEURAL),)), "seconds": zeros(())}
    if unit.kind == "pool":
        nb, strides = config.pool.batches_per_unit, config.strides
    else:
        nb, strides = config.conv.batches_per_unit, conv_strides(config)
    batched = jax.tree.map(lambda a: zeros((nb,) + a.shape, a.dtype), stats)
    return {"stats": {f"s{s}": batched for s in strides}, "seconds": zeros(())}


def initial_state(config, units) -> ExperimentState:
    return ExperimentState(step=jnp.asarray(0, jnp.int32),
                           results={u.name: unit_template(config, u) for u in units})


# ----------------------------------------------------------------------------- work units

def run_main(config, unit: Unit) -> dict:
    """All methods on replication 0 of one problem and one grid."""
    problem = get_problem(config, unit.problem)
    td = time_degree(config, unit.problem)
    key = jax.random.fold_in(problem_key(config, unit.problem), 0)
    ts, xs = replication_paths(problem, key, config.n_paths, config.n_fine, unit.stride)
    ts_e, xs_e = eval_paths(config, unit.problem, problem)
    stats = offline_program(config, unit.problem)(ts, xs)
    stats_brief = offline_program(config, unit.problem)(ts, xs[:config.n_paths_brief])
    theta_off = methods.offline_thetas(stats)
    on, nn = config.online, config.neural
    spec = methods.OnlineSpec("td0", on.lr_td0, on.lr_decay_batches, on.batch_paths, on.epochs, config.td_lambda)
    spec_ml = dataclasses.replace(spec, kind="ml", lr=on.lr_ml)
    module = value_lib.MLP(tuple(nn.hidden))

    @jax.jit
    def learn(ts, xs, ts_e, xs_e, nkeys):
        """Online TD(0), TD(lambda), gradient MC and the two neural fits (one compiled program); a fit switched
        off in the config (online.epochs or neural.steps = 0) gives NaN."""
        if on.epochs == 0:
            theta_on = jnp.full((len(ONLINE), theta_off.shape[1]), jnp.nan, xs.dtype)
        else:
            td_avg, _ = methods.online_td_pair(problem, spec, ts, xs, td, jnp.asarray([on.lr_td0, on.lr_td_lambda]))
            ml_avg, _ = methods.online_linear(problem, spec_ml, ts, xs, td)
            theta_on = jnp.concatenate([td_avg, ml_avg[None]], 0)
        if nn.steps == 0:                     # neural fits switched off (the smoke test checks them separately)
            return theta_on, jnp.full((2,), jnp.nan, xs.dtype)
        params = methods.train_neural_pair(problem, nkeys, ts, xs, hidden=tuple(nn.hidden), steps=nn.steps,
                                           batch_paths=nn.batch_paths, lr=nn.lr)
        nn_err = jax.vmap(lambda p: methods.neural_relative_error(problem, module, p, ts_e, xs_e))(params)
        return theta_on, nn_err

    nkeys = jax.random.split(jax.random.fold_in(key, 3000), 2)
    if on.epochs == 0 and nn.steps == 0:      # smoke: online and neural fits off (methods_test covers them)
        theta_on = np.full((len(ONLINE), theta_off.shape[1]), np.nan)
        nn_err = np.full((len(NEURAL),), np.nan)
    else:
        theta_on, nn_err = learn(ts, xs, ts_e, xs_e, nkeys)
    return {"stats": stats, "stats_brief": stats_brief, "theta": np.concatenate([theta_off, theta_on], 0),
            "nn_err": nn_err}


def run_batches(config, unit: Unit) -> dict:
    """Per-batch offline statistics (means over each batch) on every grid, accumulated while simulating.

    pool: the OU grids ``config.strides`` (claim 2); conv: ``conv.strides`` and the reference grid (claim 3).
    Batch g (global index over the units of this kind) uses fold_in(fold_in(problem key, salt), g), salt
    5000 (pool) or 1000 (conv); every batch drives all its grids with one Brownian motion.
    """
    if unit.kind == "pool":
        cfg, n_fine, strides, salt = config.pool, config.n_fine, tuple(config.strides), 5000
    else:
        cfg, n_fine, strides, salt = config.conv, config.conv.n_fine, conv_strides(config), 1000
    smp = sampler(config, unit.problem, cfg.batch_paths)
    base = jax.random.fold_in(problem_key(config, unit.problem), salt)
    per_batch = []
    for b in range(cfg.batches_per_unit):
        g = unit.rep * cfg.batches_per_unit + b
        per_batch.append(smp.statistics(jax.random.fold_in(base, g), n_fine, strides))
    stats = {f"s{s}": jax.tree.map(lambda *a: jnp.asarray(np.stack(a)), *[pb[j] for pb in per_batch])
             for j, s in enumerate(strides)}
    return {"stats": stats}


def checked_values(config, unit: Unit, res: dict) -> dict:
    """The results of a unit that must be finite, by name: all of them except the fits the config switches
    off (NaN by design: online rows of theta when online.epochs = 0, nn_err when neural.steps = 0)."""
    res = dict(res)
    if unit.kind == "main":
        theta = np.asarray(res.pop("theta"))
        n_off = len(methods.LINEAR_OFFLINE)
        res["theta_offline"] = theta[:n_off]
        if config.online.epochs > 0:
            res.update({f"theta_{n}": theta[n_off + j] for j, n in enumerate(ONLINE)})
        nn_err = res.pop("nn_err")
        if config.neural.steps > 0:
            res.update({n: e for n, e in zip(NEURAL, np.asarray(nn_err))})
    leaves = jax.tree_util.tree_flatten_with_path(res)[0]
    return {f"{unit.name}/" + "/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path): v
            for path, v in leaves}


def run_unit(config, unit: Unit) -> dict:
    t0 = time.time()
    out = {"main": run_main, "pool": run_batches, "conv": run_batches}[unit.kind](config, unit)
    out = jax.block_until_ready(jax.tree.map(lambda a: jnp.asarray(np.asarray(a, np.float64)), out))
    out["seconds"] = jnp.asarray(np.float64(time.time() - t0))
    return out


def run_units(config, units, state, checkpointer, writer) -> ExperimentState:
    """Runs units[state.step:]; each unit's results are checked finite, then logged and checkpointed."""
    progress = metrics_lib.Progress(len(units), int(state.step), name="martingale_td units", interval=0.0)
    for i in range(int(state.step), len(units)):
        u = units[i]
        res = run_unit(config, u)
        training.check_finite(i + 1, checked_values(config, u, res))   # before the unit is logged or saved
        state = state.replace(results={**state.results, u.name: res}, step=jnp.asarray(i + 1, jnp.int32))
        summary = {f"{u.name}/seconds": float(res["seconds"])}
        if u.kind == "main":
            summary.update({f"{u.name}/nn_err_{n}": float(e) for n, e in zip(NEURAL, res["nn_err"])})
        writer.write(i + 1, summary)
        checkpointer.save(i + 1, state, force=(i + 1) % max(1, config.checkpoint_every) == 0 or i + 1 == len(units))
        progress.update(i + 1, force=True)
    return state


def train_and_evaluate(config, workdir: str):
    """Checks the config, runs the unfinished work units (resuming after the last finished one), then evaluates."""
    check_config(config)
    with jax.enable_x64(True):
        units = build_units(config)
        checkpointer = ckpt_lib.Checkpointer(workdir, config, save_every=config.checkpoint_every)
        writer = metrics_lib.MetricsWriter(workdir)
        try:
            run_units(config, units, checkpointer.restore_or(initial_state(config, units)), checkpointer, writer)
        finally:                              # also when a unit fails: the last save is finished
            checkpointer.close()
            writer.close()
    return evaluate(config, workdir)


# ----------------------------------------------------------------------------- evaluation

def load_state(config, workdir: str) -> tuple[list[Unit], ExperimentState]:
    units = build_units(config)
    checkpointer = ckpt_lib.Checkpointer(workdir, config, save_every=config.checkpoint_every)
    if checkpointer.latest_step() is None:
        raise FileNotFoundError(f"no checkpoint in {workdir}: run papers.martingale_td.train first")
    state = checkpointer.restore_or(initial_state(config, units))
    checkpointer.close()
    if int(state.step) < len(units):
        raise RuntimeError(f"{workdir} holds {int(state.step)}/{len(units)} finished units: "
                           "run papers.martingale_td.train again to finish them")
    return units, state


def _errors(err_stats, thetas) -> np.ndarray:
    """Relative L2 errors of a stack of linear thetas [..., d] -> [...] (``_rel_err`` row by row, NumPy)."""
    es = {k: np.asarray(v) for k, v in err_stats.items()}
    thetas = np.asarray(thetas)
    flat = thetas.reshape(-1, thetas.shape[-1])
    return np.asarray([_rel_err(es, th) for th in flat]).reshape(thetas.shape[:-1])


_ERR_CACHE: dict = {}


def error_statistics(config, name: str):
    """``methods.error_statistics`` on the evaluation paths of one problem (jitted once per problem)."""
    problem = get_problem(config, name)
    if id(problem) not in _ERR_CACHE or _ERR_CACHE[id(problem)][0] is not problem:
        _ERR_CACHE[id(problem)] = (problem, jax.jit(methods.error_statistics, static_argnums=(0, 3)))
    ts_e, xs_e = eval_paths(config, name, problem)
    es = _ERR_CACHE[id(problem)][1](problem, ts_e, xs_e, time_degree(config, name))
    return {k: np.asarray(v) for k, v in es.items()}


def _concat_batches(state, unit_names, grid: str) -> dict:
    """Per-batch statistics of one grid from several units, stacked on a leading batch axis [B, ...]."""
    return jax.tree.map(lambda *a: np.concatenate([np.asarray(x) for x in a]),
                        *[state.results[u]["stats"][grid] for u in unit_names])


def _jackknife_thetas(batched):
    """Estimators of the pooled statistics (mean over the B batches) and the B leave-one-batch-out ones."""
    B = jax.tree.leaves(batched)[0].shape[0]
    total = jax.tree.map(lambda a: a.sum(0), batched)
    full = methods.offline_thetas(jax.tree.map(lambda t: t / B, total))
    loo = [methods.offline_thetas(jax.tree.map(lambda t, a: (t - a[b]) / (B - 1), total, batched))
           for b in range(B)]
    return full, loo


def _jk_se(values) -> float:
    """Jackknife standard error from leave-one-out values: sqrt((B - 1)/B sum (v_b - mean)^2)."""
    v = np.asarray(values, float)
    return float(np.sqrt((len(v) - 1) / len(v) * np.sum((v - v.mean())**2)))


def _jk_se_vec(es, thetas) -> float:
    """Jackknife noise scale of a vector estimator in the error norm: sqrt(tr(Q Cov_jk)) / ||J - h||."""
    t = np.asarray(thetas)
    dev = t - t.mean(0)
    sq = np.einsum("bi,ij,bj->b", dev, es["Q"], dev)
    return float(np.sqrt((len(t) - 1) / len(t) * sq.sum() / es["s"]))


def _rel_err(es, theta) -> float:
    """||J^theta - J|| / ||J - h|| on the evaluation paths (``methods.linear_relative_error`` in NumPy)."""
    sq = theta @ es["Q"] @ theta - 2 * theta @ es["q"] + es["s"]
    return float(np.sqrt(max(sq, 0.0) / es["s"]))


def _rel_dist(es, theta1, theta2) -> float:
    """||J^theta1 - J^theta2|| / ||J - h|| on the evaluation paths."""
    d = theta1 - theta2
    return float(np.sqrt(max(d @ es["Q"] @ d, 0.0) / es["s"]))


def compute_metrics(config, units, state) -> dict:
    """Errors of every method per main unit (claim 1), the pooled Monte Carlo study (claim 2) and the
    convergence in dt (claim 3)."""
    m: dict = {}
    err_stats = {}
    for name in ("ou", "mv"):
        es = err_stats[name] = error_statistics(config, name)
        floor = _rel_err(es, np.linalg.solve(es["Q"], es["q"]))
        m[f"{name}/approximation_floor"] = floor              # best linear fit on the evaluation paths
    n_fine = config.n_fine
    for u in units:
        res = state.results[u.name]
        dt = problem_config(config, u.problem).horizon * u.stride / n_fine
        if u.kind == "main":
            errs = _errors(err_stats[u.problem], res["theta"])
            brief = _errors(err_stats[u.problem], methods.offline_thetas(res["stats_brief"]))
            m[u.name] = {"dt": dt, **{n: float(e) for n, e in zip(LINEAR, errs)},
                         **{n: float(e) for n, e in zip(NEURAL, np.asarray(res["nn_err"]))},
                         "brief_paths": {n: float(e) for n, e in zip(methods.LINEAR_OFFLINE, brief)},
                         "seconds": float(res["seconds"])}
    m["ou/pool"] = _pool_metrics(config, units, state, err_stats["ou"])
    m["mv/main_exact"] = _exact_errors(config, "mv", min(config.strides), err_stats["mv"])
    for name in ("ou", "mv"):
        m[f"{name}/conv"] = _convergence_metrics(config, units, state, name, err_stats[name])
    m["train_seconds"] = float(sum(float(state.results[u.name]["seconds"]) for u in units))
    return m


def _exact_errors(config, name: str, stride: int, es) -> dict:
    """Errors of the offline estimators on infinitely many paths (exact expected statistics) of one grid."""
    problem, pc = get_problem(config, name), problem_config(config, name)
    td = time_degree(config, name)
    th = methods.offline_thetas(moments.expected_statistics(problem, moments.quadratic_spec(pc, problem),
                                                            config.n_fine // stride, td, test_degree(config, td),
                                                            config.td_lambda))
    return {n: _rel_err(es, th[j]) for j, n in enumerate(methods.LINEAR_OFFLINE)}


def _pool_metrics(config, units, state, es) -> dict:
    """Claim 2: Monte Carlo estimators of the OU problem (pooled batches, jackknife SEs) next to the exact
    infinite-path estimators, on the coarse and the fine grid."""
    n_fine = config.n_fine
    problem, pc = get_problem(config, "ou"), config.ou
    td = time_degree(config, "ou")
    pool_units = [u.name for u in units if u.kind == "pool"]
    grids = {s_: f"dt={pc.horizon * s_ / n_fine:g}" for s_ in config.strides}
    mc, exact, consist = {}, {}, {}
    for s_, label in grids.items():
        batched = _concat_batches(state, pool_units, f"s{s_}")
        full, loo = _jackknife_thetas(batched)
        th_exact = methods.offline_thetas(moments.expected_statistics(
            problem, moments.quadratic_spec(pc, problem), n_fine // s_, td, test_degree(config, td), config.td_lambda))
        mc[label] = {n: {"err": _rel_err(es, full[j]), "se": _jk_se([_rel_err(es, t[j]) for t in loo])}
                     for j, n in enumerate(methods.LINEAR_OFFLINE)}
        exact[label] = {n: _rel_err(es, th_exact[j]) for j, n in enumerate(methods.LINEAR_OFFLINE)}
        # |theta_MC - theta_exact|_Q against its jackknife noise scale sqrt(tr(Q Cov)); about 1 if consistent
        consist[label] = {n: _rel_dist(es, full[j], th_exact[j]) / _jk_se_vec(es, [t[j] for t in loo])
                          for j, n in enumerate(methods.LINEAR_OFFLINE)}
    kc, kf = grids[max(config.strides)], grids[min(config.strides)]
    diff = {}
    _, loo_c = _jackknife_thetas(_concat_batches(state, pool_units, f"s{max(config.strides)}"))
    _, loo_f = _jackknife_thetas(_concat_batches(state, pool_units, f"s{min(config.strides)}"))
    for j, n in enumerate(methods.LINEAR_OFFLINE):
        d_loo = [_rel_err(es, c[j]) - _rel_err(es, f[j]) for c, f in zip(loo_c, loo_f)]
        diff[n] = {"value": mc[kc][n]["err"] - mc[kf][n]["err"], "se": _jk_se(d_loo)}
    n_pool = int(sum(np.asarray(state.results[u]["stats"][f"s{min(config.strides)}"]["ml"][0]).shape[0]
                     for u in pool_units)) * config.pool.batch_paths
    return {"n_paths": n_pool, "mc": mc, "mc_diff_coarse_minus_fine": diff, "exact": exact,
            "mc_vs_exact_ratio": consist, "coarse": kc, "fine": kf}


def _convergence_metrics(config, units, state, name, es) -> dict:
    """Claim 3: distance of the discretised estimators to the reference-grid estimator for problem ``name``:
    exact (infinitely many paths) and Monte Carlo on the same Brownian paths for all grids (jackknife SEs),
    and their agreement."""
    problem, pc = get_problem(config, name), problem_config(config, name)
    td = time_degree(config, name)
    spec = moments.quadratic_spec(pc, problem)
    conv_units = [u.name for u in units if u.kind == "conv" and u.problem == name]
    dts = [pc.horizon * s_ / config.conv.n_fine for s_ in config.conv.strides]
    exact = [methods.offline_thetas(moments.expected_statistics(problem, spec, config.conv.n_fine // s_, td,
                                                                test_degree(config, td), config.td_lambda))
             for s_ in conv_strides(config)]
    fulls, loos = zip(*[_jackknife_thetas(_concat_batches(state, conv_units, f"s{s_}"))
                        for s_ in conv_strides(config)])
    dt_ref = pc.horizon / config.conv.n_fine
    dist, dist_mc, se, dec_z, slopes, slopes_mc, to_true, ratio, rates = {}, {}, {}, {}, {}, {}, {}, {}, {}
    for j, meth in enumerate(methods.LINEAR_OFFLINE):
        dist[meth] = [_rel_dist(es, exact[k][j], exact[-1][j]) for k in range(len(dts))]
        slopes[meth] = methods.fit_loglog_slope(dts, dist[meth])
        rates[meth] = methods.fit_rate_to_reference(dts, dist[meth], dt_ref)    # slope corrected for dt_ref > 0
        dist_mc[meth] = [_rel_dist(es, fulls[k][j], fulls[-1][j]) for k in range(len(dts))]
        loo_d = np.asarray([[_rel_dist(es, loos[k][b][j], loos[-1][b][j]) for b in range(len(loos[0]))]
                            for k in range(len(dts))])                                    # [n_dt, B]
        se[meth] = [_jk_se(v) for v in loo_d]
        # successive Monte Carlo decreases d_k - d_{k+1} in units of their jackknife SE
        dec_z[meth] = [(dist_mc[meth][k] - dist_mc[meth][k + 1]) / max(_jk_se(loo_d[k] - loo_d[k + 1]), 1e-300)
                       for k in range(len(dts) - 1)]
        slopes_mc[meth] = methods.fit_loglog_slope(dts, dist_mc[meth])
        to_true[meth] = [_rel_err(es, exact[k][j]) for k in range(len(exact))]
        ratio[meth] = [_rel_dist(es, fulls[k][j], exact[k][j]) / _jk_se_vec(es, [t[j] for t in loos[k]])
                       for k in range(len(exact))]
    n_conv = len(loos[0]) * config.conv.batch_paths
    return {"dts": dts, "dt_ref": dt_ref, "n_paths": n_conv,
            "dist_to_ref": dist, "slope": slopes, "rate": rates, "err_to_true": to_true,
            "mc_dist_to_ref": dist_mc, "mc_se": se, "mc_decrease_z": dec_z, "mc_slope": slopes_mc,
            "mc_vs_exact_ratio": ratio}


def build_claims(config, m: dict) -> list[claims_lib.Claim]:
    cl = []
    good, bad = config.threshold_good, config.threshold_bad
    fine, coarse = min(config.strides), max(config.strides)
    mf, mc_main = m[f"ou/main/s{fine}"], m[f"ou/main/s{coarse}"]
    recover = ("ml", "td0", "td_lambda", "lstd")
    ok1 = all(mf[n] < good for n in recover) and mf["mstde"] > bad
    cl.append(claims_lib.Claim(
        CLAIMS[0],
        f"OU example, dt={mf['dt']:g}, {config.n_paths} paths: ML, TD(0), TD(lambda) (online) and LSTD recover J "
        f"within {good:.0%} relative L2; minimising the MSTDE stays biased (> {bad:.0%})",
        "ML and TD recover J, MSTDE does not (Sections 3.2, 6)",
        "; ".join(f"{n} {mf[n]:.2%}" for n in recover) + f"; MSTDE {mf['mstde']:.1%}. Also: LSTD(lambda) "
        f"{mf['lstd_lambda']:.2%}, GTD {mf['gtd']:.2%}, gradient MC {mf['ml_gmc']:.2%}, neural ML "
        f"{mf['nn_ml']:.2%}, neural TD(0) {mf['nn_td']:.2%}; with {config.n_paths_brief} paths: ML "
        f"{mf['brief_paths']['ml']:.2%}, LSTD {mf['brief_paths']['lstd']:.2%}, MSTDE "
        f"{mf['brief_paths']['mstde']:.1%}", ok1))
    pool = m["ou/pool"]
    kc, kf, ex, mc = pool["coarse"], pool["fine"], pool["exact"], pool["mc"]
    shrink = ("ml", "lstd", "lstd_lambda")
    ratio = max(pool["mc_vs_exact_ratio"][k][n] for k in (kc, kf) for n in shrink + ("mstde",))
    ok2 = (all(ex[kf][n] < ex[kc][n] for n in shrink) and ex[kf]["mstde"] >= ex[kc]["mstde"]
           and ratio < config.consistency_ratio)
    dz = pool["mc_diff_coarse_minus_fine"]
    cl.append(claims_lib.Claim(
        CLAIMS[1],
        f"OU: the errors of ML, LSTD (TD(0)) and LSTD(lambda) shrink from {kc} to {kf} and the MSTDE error does "
        f"not, for the estimators on infinitely many paths (exact expected statistics of the Euler chain); the "
        f"Monte Carlo estimators on {pool['n_paths']:,} paths (same Brownian motion for both grids) agree with them "
        f"within {config.consistency_ratio:g} x their jackknife noise scale",
        "MSTDE is biased as dt -> 0; ML / TD converge (Theorems of Sections 3-5)",
        "exact: " + "; ".join(f"{n} {ex[kc][n]:.3%} -> {ex[kf][n]:.3%}" for n in shrink + ("mstde",))
        + f". Monte Carlo ({pool['n_paths']:,} paths, +- jackknife SE): "
        + "; ".join(f"{n} {mc[kc][n]['err']:.3%}+-{mc[kc][n]['se']:.3%} -> {mc[kf][n]['err']:.3%}+-"
                    f"{mc[kf][n]['se']:.3%} (paired diff {dz[n]['value']:+.3%}+-{dz[n]['se']:.3%})"
                    for n in shrink + ("mstde",))
        + f"; max |MC - exact| / noise scale {ratio:.2f}. Fits on the main {config.n_paths:,} paths (not part of the "
        "pass condition): " + "; ".join(f"{n} {mc_main[n]:.2%} -> {mf[n]:.2%}" for n in
                                         ("ml", "lstd", "lstd_lambda", "gtd", "td0", "td_lambda", "mstde"))
        + f"; on their first {config.n_paths_brief:,}: " + "; ".join(
            f"{n} {mc_main['brief_paths'][n]:.2%} -> {mf['brief_paths'][n]:.2%}" for n in ("ml", "lstd", "mstde")),
        ok2))
    rows, ok3 = [], True
    claim3_methods = ("ml", "lstd", "lstd_lambda", "gtd")
    for name in ("ou", "mv"):
        c = m[f"{name}/conv"]
        r3 = max(max(c["mc_vs_exact_ratio"][k]) for k in claim3_methods)
        for meth in claim3_methods:
            ok3 = (ok3 and c["slope"][meth] >= 0.5 and c["rate"][meth] >= 0.5
                   and all(np.diff(c["dist_to_ref"][meth]) < 0))
        ok3 = ok3 and r3 < config.consistency_ratio
        rows.append(f"{name}: exact slopes " + ", ".join(f"{k} {c['slope'][k]:.2f}" for k in claim3_methods)
                    + f" (mstde {c['slope']['mstde']:.2f}), rates p of C (dt^p - dt_ref^p) "
                    + ", ".join(f"{k} {c['rate'][k]:.2f}" for k in claim3_methods)
                    + f" (mstde {c['rate']['mstde']:.2f}), monotone "
                    + str(all(all(np.diff(c["dist_to_ref"][k]) < 0) for k in claim3_methods))
                    + f"; Monte Carlo ({c['n_paths']:,} paths) slopes "
                    + ", ".join(f"{k} {c['mc_slope'][k]:.2f}" for k in claim3_methods)
                    + ", smallest decrease / SE " + ", ".join(f"{k} {min(c['mc_decrease_z'][k]):.1f}"
                                                              for k in claim3_methods)
                    + f", max |MC - exact| / noise scale {r3:.2f}")
    cl.append(claims_lib.Claim(
        CLAIMS[2],
        "discretised ML / LSTD / LSTD(lambda) / GTD estimators (infinitely many paths: exact expected statistics "
        f"of the Euler chain) converge to those on the reference grid dt={m['ou/conv']['dt_ref']:g} monotonically, "
        "with fitted log-log slope >= 1/2 and rate >= 1/2 (rate p of the fit C (dt^p - dt_ref^p), which corrects "
        "the slope for the reference grid not being dt = 0); the Monte Carlo estimators on every grid (one "
        f"Brownian motion for all grids) agree with them within {config.consistency_ratio:g} x their jackknife noise scale "
        "(figure convergence.png)",
        "convergence as mesh -> 0 with an explicit rate (recalled as order 1/2 for Euler; not re-checked)",
        "; ".join(rows), ok3))
    mv = m[f"mv/main/s{fine}"]
    ok4 = mv["mstde"] > bad and all(mv[n] < 0.5 * mv["mstde"] for n in ("ml", "lstd", "td0"))
    cl.append(claims_lib.Claim(
        CLAIMS[3],
        f"mean-variance application (dt={mv['dt']:g}, {config.n_paths} paths): ML, LSTD and online TD(0) errors "
        f"are below half the MSTDE error, which exceeds {bad:.0%}",
        "ML / TD learn the MV value function, MSTDE does not (Section 6)",
        "; ".join(f"{n} {mv[n]:.1%}" for n in ("ml", "lstd", "lstd_lambda", "gtd", "td0", "td_lambda",
                                                "ml_gmc", "nn_ml", "mstde"))
        + ". Exact, infinitely many paths of the same grid (not part of the pass condition): "
        + "; ".join(f"{n} {m['mv/main_exact'][n]:.2%}" for n in methods.LINEAR_OFFLINE), ok4))
    return cl


@functools.partial(jax.jit, static_argnums=(0, 4))
def _value_curves(problem, thetas, t, x, td):
    """True J(t, x) and the linear fits J^theta(t, x) for a stack of thetas (one compiled program)."""
    return problem.value(t, x), jax.vmap(lambda th: value_lib.linear_value(problem, th, t, x, td))(thetas)


def plot(config, m: dict, state, workdir: str) -> list[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, name in enumerate(("ou", "mv")):
        c = m[f"{name}/conv"]
        for meth in methods.LINEAR_OFFLINE:
            line, = ax[i].plot(c["dts"], c["dist_to_ref"][meth], "-", label=f"{meth} exact (slope {c['slope'][meth]:.2f})")
            ax[i].errorbar(c["dts"], c["mc_dist_to_ref"][meth], yerr=2 * np.asarray(c["mc_se"][meth]), fmt="o",
                           color=line.get_color(), capsize=2, ms=3)
            ax[i].set_xscale("log")
            ax[i].set_yscale("log")
        ref = np.asarray(c["dts"])
        ax[i].loglog(ref, c["dist_to_ref"]["ml"][0] * ref / ref[0], "k--", lw=0.8, label="slope 1")
        ax[i].set_title(f"{name}: ||J_dt - J_ref|| / ||J - h||; lines exact, dots {c['n_paths']:,} paths +- 2 SE",
                        fontsize=9)
        ax[i].set_xlabel("dt")
        ax[i].legend(fontsize=7)
    fig.tight_layout()
    p = os.path.join(workdir, "convergence.png")
    fig.savefig(p, dpi=90)
    plt.close(fig)
    paths.append(p)

    problem = get_problem(config, "ou")
    td = config.time_degree
    fine = min(config.strides)
    shown = ("ml", "lstd", "td0", "mstde")
    theta = jnp.asarray(np.asarray(state.results[f"ou/main/s{fine}"]["theta"])[[LINEAR.index(k) for k in shown]])
    x = np.linspace(-2.5, 2.5, 101)
    tt = np.repeat(np.asarray([0.0, 0.5])[:, None], x.size, 1)                  # [2 times, 101]
    true_j, fits = _value_curves(problem, theta, tt, np.broadcast_to(x, tt.shape), td)
    true_j, fits = np.asarray(true_j), np.asarray(fits)                          # [2, 101], [4, 2, 101]
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, t in enumerate((0.0, 0.5)):
        ax[i].plot(x, true_j[i], "k", lw=2, label="true J")
        for j, meth in enumerate(shown):
            ax[i].plot(x, fits[j, i], "--", label=meth)
        ax[i].set_title(f"OU value function at t = {t}")
        ax[i].set_xlabel("x")
        ax[i].legend(fontsize=8)
    fig.tight_layout()
    p = os.path.join(workdir, "value_functions.png")
    fig.savefig(p, dpi=90)
    plt.close(fig)
    paths.append(p)
    return paths


def evaluate(config, workdir: str) -> dict:
    """Reads the finished units, computes metrics and claims, saves the figures and eval.json."""
    check_config(config)
    with jax.enable_x64(True):
        units, state = load_state(config, workdir)
        m = compute_metrics(config, units, state)
        cl = build_claims(config, m)
        figures = plot(config, m, state, workdir) if distributed.is_chief() else []
        return claims_lib.write_eval(workdir, m, cl, figures)
