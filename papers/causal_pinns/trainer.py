"""Training of one PINN on one time window (a *work unit*), causal or vanilla, resumable.

The unit state carries everything (params, Adam state, eps stage, histories), so a killed run resumes
bit-identically from its last checkpoint. The x points of a step are drawn from
``fold_in(key, step)``. Causal and vanilla units share one compiled step: vanilla is the causal step
with every eps set to 0 (w_i = exp(0) = 1) and without the early stop.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Callable

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax

from common import training
from papers.causal_pinns import causal, networks, problems

HIST_COLUMNS = ("step", "eps", "min_w", "min_w_diag", "rel_l2", "loss", "loss_res_mean")
METHODS = ("causal", "vanilla")
ARCHS = ("mlp", "modified_mlp")
# Whether the soft initial-condition loss enters the causal weights, w_i = exp(-eps (lambda L_ic + sum_{k<i} L_r)),
# as in the official code: its KS script does, its Allen-Cahn notebook uses w_i = exp(-eps sum_{k<i} L_r) only.
IC_IN_CAUSAL_WEIGHTS = {"allen_cahn": False, "kuramoto_sivashinsky": True, "lorenz": False}


@flax.struct.dataclass
class UnitState:
    step: jax.Array            # int32, Adam steps taken
    stage_step: jax.Array      # int32, steps in the current eps stage
    eps_index: jax.Array       # int32
    finished: jax.Array        # bool
    eps_list: jax.Array        # [E] (all zeros for vanilla)
    stop_on_criterion: jax.Array  # bool (causal: stop the last stage when min w > delta)
    params: dict
    opt_state: tuple
    key: jax.Array             # PRNGKey of the x draws
    ic_values: jax.Array       # PDE: [n_ic] u at the window start on the IC grid; Lorenz: [3]
    hist: jax.Array            # [max_logs, len(HIST_COLUMNS)] nan-filled
    hist_w: jax.Array          # [max_logs, N_t] weights at eps_diag


@dataclasses.dataclass(frozen=True)
class Problem:
    """The pure pieces of one problem: losses, diagnostics and predictions of a window."""
    name: str
    init_params: Callable      # key -> params
    losses: Callable           # (params, ic_values, ic_is_analytic, key) -> (slice_losses [N_t], ic_loss)
    diag_losses: Callable      # (params, ic_values, ic_is_analytic) -> slice_losses [N_t] on a fixed grid
    predict: Callable          # (params, ic_values, ic_is_analytic, t_local [T]) -> [T, ...]
    next_ic: Callable          # (params, ic_values, ic_is_analytic, window) -> ic_values of the next window
    num_t: int
    window: float


def pde_problem(cfg) -> Problem:
    spec = problems.spec_by_name(cfg.name)
    if cfg.arch not in ARCHS:
        raise ValueError(f"unknown arch {cfg.arch!r}; valid: {ARCHS}")
    spec = dataclasses.replace(spec, t_final=cfg.t_final)
    d_in = 2 + 2 * cfg.num_modes
    widths = (cfg.width,) * cfg.depth
    t_slices = jnp.linspace(0.0, cfg.window, cfg.num_t)
    x_ic = jnp.asarray(problems.pde.grid(cfg.num_ic, spec.length, spec.x_min), jnp.float32)
    x_grid = spec.x_min + spec.length * (jnp.arange(cfg.num_x) + 0.5) / cfg.num_x

    def field(params, ic_values, ic_is_analytic):
        return lambda t, x: problems.pde_field(params, t, x, ic_values, ic_is_analytic, spec, cfg.num_modes,
                                               cfg.hard_ic)

    def ic_loss(params, ic_values, ic_is_analytic):
        if cfg.hard_ic:
            return jnp.zeros(())
        u = field(params, ic_values, ic_is_analytic)
        pred = jax.vmap(lambda x: u(jnp.zeros(()), x))(x_ic)
        return jnp.mean((pred - ic_values) ** 2)

    def losses(params, ic_values, ic_is_analytic, key):
        if cfg.fresh_x:
            x = spec.x_min + spec.length * jax.random.uniform(key, (cfg.num_x,))
        else:
            x = x_grid
        res = problems.pde_residual(field(params, ic_values, ic_is_analytic), spec)
        return problems.pde_slice_losses(res, t_slices, x), ic_loss(params, ic_values, ic_is_analytic)

    def diag_losses(params, ic_values, ic_is_analytic):
        res = problems.pde_residual(field(params, ic_values, ic_is_analytic), spec)
        return problems.pde_slice_losses(res, t_slices, x_grid)

    def predict(params, ic_values, ic_is_analytic, t_local, x):
        u = field(params, ic_values, ic_is_analytic)
        return jax.vmap(jax.vmap(u, (None, 0)), (0, None))(t_local, x)

    def next_ic(params, ic_values, ic_is_analytic, window):
        return predict(params, ic_values, ic_is_analytic, jnp.full((1,), window), x_ic)[0]

    def init_params(key):
        return networks.init_mlp(key, d_in, widths, 1, modified=cfg.arch == "modified_mlp")

    return Problem(cfg.name, init_params, losses, diag_losses, predict, next_ic, cfg.num_t, cfg.window)


def lorenz_problem(cfg) -> Problem:
    t_slices = jnp.linspace(0.0, cfg.window * (1.0 + cfg.t_margin), cfg.num_t)
    ts, os_ = cfg.t_scale, cfg.out_scale

    def losses(params, ic_values, ic_is_analytic, key):
        del ic_is_analytic, key
        return problems.lorenz_slice_losses(params, t_slices, ic_values, ts, os_), jnp.zeros(())

    def diag_losses(params, ic_values, ic_is_analytic):
        return problems.lorenz_slice_losses(params, t_slices, ic_values, ts, os_)

    def predict(params, ic_values, ic_is_analytic, t_local, x=None):
        return jax.vmap(lambda t: problems.lorenz_state(params, t, ic_values, ts, os_))(t_local)

    def next_ic(params, ic_values, ic_is_analytic, window):
        return problems.lorenz_state(params, jnp.asarray(window, jnp.float32), ic_values, ts, os_)

    def init_params(key):
        return networks.init_mlp(key, 1, (cfg.width,) * cfg.depth, 3)

    return Problem("lorenz", init_params, losses, diag_losses, predict, next_ic, cfg.num_t, cfg.window)


def make_problem(cfg) -> Problem:
    return lorenz_problem(cfg) if cfg.name == "lorenz" else pde_problem(cfg)


def make_optimizer(cfg) -> optax.GradientTransformation:
    """Adam with the paper's continuous exponential decay lr * rate^(step / decay_steps)."""
    return optax.adam(optax.exponential_decay(cfg.lr, cfg.decay_steps, cfg.decay_rate))


def max_steps(cfg) -> int:
    return cfg.steps_per_eps * len(cfg.eps)


def init_state(cfg, problem: Problem, method: str, key, ic_values, log_every: int) -> UnitState:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid: {METHODS}")
    k_param, k_data = jax.random.split(key)
    params = problem.init_params(k_param)
    eps = jnp.asarray(cfg.eps, jnp.float32) * (1.0 if method == "causal" else 0.0)
    max_logs = max_steps(cfg) // log_every + 2
    return UnitState(step=jnp.int32(0), stage_step=jnp.int32(0), eps_index=jnp.int32(0),
                     finished=jnp.bool_(False), eps_list=eps, stop_on_criterion=jnp.bool_(method == "causal"),
                     params=params, opt_state=make_optimizer(cfg).init(params), key=k_data,
                     ic_values=jnp.asarray(ic_values, jnp.float32),
                     hist=jnp.full((max_logs, len(HIST_COLUMNS)), jnp.nan, jnp.float32),
                     hist_w=jnp.full((max_logs, problem.num_t), jnp.nan, jnp.float32))


def make_train_step(cfg, problem: Problem, delta: float, ic_is_analytic: bool):
    """One Adam step on the causal loss (Algorithm 1), then the eps schedule of ``causal.anneal_epsilon`` /
    ``causal.window_finished`` (advance to the next eps / end the window).

    A finished state passes through unchanged, so the host loop needs to look at ``finished`` only when
    it logs. ``ic_is_analytic`` (static) selects the analytic initial condition of the first PDE window.
    """
    tx = make_optimizer(cfg)
    num_eps = len(cfg.eps)
    ic_weight = 0.0 if cfg.name == "lorenz" or cfg.hard_ic else cfg.ic_weight
    ic_weight_in_w = ic_weight if IC_IN_CAUSAL_WEIGHTS[cfg.name] else 0.0

    def loss_fn(params, state: UnitState, eps):
        key = jax.random.fold_in(state.key, state.step)
        slice_losses, l_ic = problem.losses(params, state.ic_values, ic_is_analytic, key)
        res_loss, w = causal.causal_residual_loss(slice_losses, eps, ic_weight_in_w * l_ic)
        return res_loss + ic_weight * l_ic, (w, slice_losses)

    def step(state: UnitState):
        eps = state.eps_list[state.eps_index]
        (loss, (w, slice_losses)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params, state, eps)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        stage_step = state.stage_step + 1
        min_w = jnp.min(w)
        # causal units test min w > delta every check_every steps; an untested step counts as not met
        tested = state.stop_on_criterion & (stage_step % cfg.check_every == 0)
        tested_min_w = jnp.where(tested, min_w, 0.0)
        out_of_steps = stage_step >= cfg.steps_per_eps
        eps_index = causal.anneal_epsilon(state.eps_index, tested_min_w, delta, num_eps, out_of_steps)
        finished = causal.window_finished(state.eps_index, tested_min_w, delta, num_eps, out_of_steps)
        stage_over = (eps_index != state.eps_index) | finished
        new_state = state.replace(step=state.step + 1, params=params, opt_state=opt_state, eps_index=eps_index,
                                  stage_step=jnp.where(stage_over, 0, stage_step), finished=finished)
        metrics = {"loss": loss, "min_w": min_w, "eps": eps, "loss_res_mean": jnp.mean(slice_losses)}
        return new_state, metrics

    def guarded(state: UnitState):
        zeros = {k: jnp.float32(jnp.nan) for k in ("loss", "min_w", "eps", "loss_res_mean")}
        return jax.lax.cond(state.finished, lambda s: (s, zeros), step, state)

    return jax.jit(guarded, donate_argnums=0)


def make_diagnostics(cfg, problem: Problem, x_eval, ic_is_analytic: bool):
    """(params, ic, t_local [T], reference [T, ...]) -> (weights at eps_diag [N_t], rel. L2 error)."""

    def diag(params, ic_values, t_local, reference):
        sl = problem.diag_losses(params, ic_values, ic_is_analytic)
        w = causal.causal_weights(sl, cfg.eps_diag)
        pred = problem.predict(params, ic_values, ic_is_analytic, t_local, x_eval)
        err = jnp.linalg.norm(pred - reference) / jnp.linalg.norm(reference)
        return w, err

    return jax.jit(diag)


@jax.jit
def _record(state: UnitState, idx, vals, w) -> UnitState:
    return state.replace(hist=state.hist.at[idx].set(vals), hist_w=state.hist_w.at[idx].set(w))


def train_unit(state: UnitState, train_step, diag, *, log_every: int, checkpointer=None, writer=None,
               name: str = "", max_total: int) -> UnitState:
    """Runs the window to its end (last eps stage over, or max_total steps); logs histories every log_every.

    The host looks at the state every ``log_every`` steps only (a finished state no longer changes; the
    step metrics of a chunk in which the window finished are NaN, the diagnostics are always measured).
    """
    progress = training.Progress(max_total, int(state.step), name=name)
    done = int(state.step)
    while not bool(state.finished) and done < max_total:
        for _ in range(min(log_every - done % log_every, max_total - done)):
            state, metrics = train_step(state)
        done = int(state.step)
        finished = bool(state.finished)
        metrics = {k: float(v) for k, v in jax.device_get(metrics).items()}
        w, err = jax.device_get(diag(state.params, state.ic_values))
        row = {**metrics, "min_w_diag": float(np.min(w)), "rel_l2": float(err)}
        training.check_finite(done, {"min_w_diag": row["min_w_diag"], "rel_l2": row["rel_l2"]})
        idx = done // log_every if done % log_every == 0 else state.hist.shape[0] - 1
        idx = min(idx, state.hist.shape[0] - 1)
        eps = float(np.asarray(state.eps_list)[int(state.eps_index)])
        vals = np.asarray([done, eps, row["min_w"], row["min_w_diag"], row["rel_l2"], row["loss"],
                           row["loss_res_mean"]], np.float32)
        state = _record(state, jnp.int32(idx), jnp.asarray(vals), jnp.asarray(w, jnp.float32))
        if writer is not None:
            writer.write(done, row)
        progress.update(done, force=finished)
        if checkpointer is not None:
            checkpointer.save(done, state, force=finished or done >= max_total)
    logging.info("%s: %d steps, eps index %d, finished %s", name, int(state.step), int(state.eps_index),
                 bool(state.finished))
    return state
