"""Small training pieces shared by papers: a train-state dataclass, a NaN/Inf guard, a short resumable loop,
the sharded-batch loop, resumable work units."""
from __future__ import annotations

import os
import time
from typing import Any, Callable, Sequence

import flax
import jax
import jax.numpy as jnp
import numpy as np

from common import sharding
from common.checkpoint import Checkpointer
from common.metrics import MetricsWriter, Progress


@flax.struct.dataclass
class TrainState:
    """Step counter, parameters, optimiser state and PRNG key of a model trained by gradient steps: the state
    :func:`run_data_parallel` replicates and checkpoints (a paper that needs more fields, such as an EMA,
    defines its own dataclass)."""
    step: jnp.ndarray
    params: Any
    opt_state: Any
    rng: jnp.ndarray


class NonFiniteError(FloatingPointError):
    """A loss or gradient norm became NaN or Inf."""


def check_finite(step: int, metrics: dict) -> None:
    """Raises NonFiniteError naming the step and the offending metrics."""
    bad = [k for k, v in metrics.items() if not np.all(np.isfinite(np.asarray(v, dtype=np.float64)))]
    if bad:
        raise NonFiniteError(f"non-finite {bad} at step {step}: "
                             f"{ {k: np.asarray(metrics[k]).tolist() for k in bad} }. "
                             "Lower the learning rate or check the data; the last checkpoint is kept.")


def run_loop(state, train_step: Callable, get_batch: Callable[[int], object], *, num_steps: int,
             checkpointer: Checkpointer | None = None, writer: MetricsWriter | None = None,
             log_every: int = 100, name: str = "train"):
    """Runs ``state, metrics = train_step(state, get_batch(step))`` from ``state.step`` to num_steps.

    ``get_batch(step)`` must depend on the step only (fold the step into the data key), so a
    resumed run sees the same batches as an uninterrupted one. Metrics are fetched, checked
    for NaN/Inf and written every ``log_every`` steps; checkpoints follow the checkpointer.
    """
    start = int(jax.device_get(state.step))
    progress = Progress(num_steps, start, name=name)
    for step in range(start, num_steps):
        state, metrics = train_step(state, get_batch(step))
        done = step + 1
        if done % log_every == 0 or done == num_steps:
            metrics = jax.device_get(metrics)
            check_finite(done, metrics)
            if writer is not None:
                writer.write(done, metrics)
            progress.update(done, force=done == num_steps)
        if checkpointer is not None:
            saved = checkpointer.save(done, state, force=done == num_steps)
            if saved and done == preempt_at_step():
                checkpointer.manager.wait_until_finished()
                os._exit(PREEMPTED_EXIT_CODE)  # a hard stop, as a preemption would be
    return state


def run_data_parallel(workdir: str, config, initial, train_step: Callable, get_batch: Callable[[int], dict], *,
                      batch_size: int, num_steps: int, name: str = "train"):
    """:func:`run_loop` with the batch sharded over a 1-D ``data`` mesh of all devices, and its own
    checkpoint and metrics in ``workdir``.

    Checks that ``batch_size`` divides over the devices (a clear error otherwise), replicates ``initial``
    (parameters and optimiser state alike, so the jitted step compiles once), resumes from the latest
    checkpoint, and feeds each process its rows of the global batch ``get_batch(step)`` (a dict of arrays
    with the batch first). Saves every ``config.checkpoint_every`` steps and at the end, logs every
    ``config.log_every``; both files are closed also when a step raises. Returns the final state.
    """
    mesh = sharding.make_mesh([(sharding.DATA, -1)])
    sharding.check_batch_divisible(batch_size, mesh)
    rows = sharding.process_slice(batch_size)
    checkpointer = Checkpointer(workdir, config, save_every=config.checkpoint_every)
    writer = MetricsWriter(workdir)

    def batch_for(step):
        return sharding.shard_batch({k: v[rows] for k, v in get_batch(step).items()}, mesh)

    try:
        state = checkpointer.restore_or(sharding.replicate(initial, mesh))
        return run_loop(state, train_step, batch_for, num_steps=num_steps, checkpointer=checkpointer,
                        writer=writer, log_every=config.log_every, name=name)
    finally:
        checkpointer.close()
        writer.close()


def run_units(state, names: Sequence[str], run_one: Callable[[str], tuple[dict, dict]], *,
              checkpointer: Checkpointer, writer: MetricsWriter, checkpoint_every: int = 1, name: str = "units"):
    """Runs the work units ``names[state.step:]`` in order: the loop of papers whose "training" is a list of
    experiments. ``run_one(unit) -> (results, summary)``: results (a dict of arrays) go into
    ``state.results[unit]``, the scalar summary and the unit's wall time into metrics.jsonl. ``state`` has
    ``step`` (the number of finished units) and ``results``; a checkpoint follows every
    ``checkpoint_every``-th unit and the last one, so a rerun resumes after the last saved unit.
    """
    progress = Progress(len(names), int(state.step), name=name, interval=0.0)
    for i in range(int(state.step), len(names)):
        t0 = time.time()
        results, summary = run_one(names[i])
        summary = {**summary, f"{names[i]}/seconds": time.time() - t0}
        state = state.replace(results={**state.results, names[i]: results}, step=jnp.asarray(i + 1, jnp.int32))
        writer.write(i + 1, summary)
        done = i + 1
        checkpointer.save(done, state, force=done % max(1, checkpoint_every) == 0 or done == len(names))
        progress.update(done, force=True)
    return state


def run_units_in(workdir: str, config, initial, names: Sequence[str], run_one: Callable[[str], tuple[dict, dict]],
                 *, name: str = "units"):
    """:func:`run_units` with its own checkpoint and metrics in ``workdir``: restores the latest checkpoint
    (or starts from ``initial``), runs the unfinished units, saves every ``config.checkpoint_every``-th unit
    and the last, and closes both files also when a unit raises. Returns the final state."""
    every = int(config.get("checkpoint_every", 1))
    checkpointer = Checkpointer(workdir, config, save_every=every)
    writer = MetricsWriter(workdir)
    try:
        state = checkpointer.restore_or(initial)
        return run_units(state, names, run_one, checkpointer=checkpointer, writer=writer,
                         checkpoint_every=every, name=name)
    finally:
        checkpointer.close()
        writer.close()


def load_finished_units(workdir: str, config, initial, n_units: int, train_module: str):
    """The state that :func:`run_units_in` left in ``workdir``, for eval. Raises FileNotFoundError when there
    is no checkpoint and RuntimeError when fewer than ``n_units`` units are finished; both name the command
    (``python -m <train_module>``) that finishes the run. The checkpoint is only read."""
    with Checkpointer(workdir, config) as checkpointer:
        if checkpointer.latest_step() is None:
            raise FileNotFoundError(f"no checkpoint in {workdir}: run `python -m {train_module}` first")
        state = checkpointer.restore_or(initial)
    if int(state.step) < n_units:
        raise RuntimeError(f"{workdir} holds {int(state.step)}/{n_units} finished units: "
                           f"run `python -m {train_module}` again to finish them")
    return state


PREEMPT_ENV = "REPRO_PREEMPT_AT_STEP"
PREEMPTED_EXIT_CODE = 75


def preempt_at_step() -> int | None:
    """Step after whose checkpoint the process kills itself (``$REPRO_PREEMPT_AT_STEP``), for resume tests."""
    value = os.environ.get(PREEMPT_ENV)
    return int(value) if value else None


def ema_update(ema, params, decay: float):
    """Exponential moving average of parameters: ema <- decay * ema + (1 - decay) * params."""
    return jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, ema, params)

