"""Preemption-safe checkpoints with orbax under ``<workdir>/checkpoints``.

A run saves every ``save_every`` steps and at the end, and restores the latest step at start.
Two guards keep data safe: a workdir whose ``config.json`` differs from the requested config
stops with :class:`ConfigMismatchError`, and a checkpoint that cannot be read stops with
:class:`CorruptCheckpointError`. In both cases nothing in the workdir is changed.
"""
from __future__ import annotations

import json
import os
from typing import Iterable

import jax
import orbax.checkpoint as ocp

from common import config as config_lib
from common import distributed

# Keys that may change between a run and its resumption without changing the result.
RESUMABLE_KEYS = ("checkpoint_every", "log_every", "max_to_keep")


class ConfigMismatchError(RuntimeError):
    """The workdir holds a run with a different config."""


class CorruptCheckpointError(RuntimeError):
    """The latest checkpoint in the workdir cannot be restored."""


def _comparable(cfg: dict, ignore: Iterable[str]) -> dict:
    return {k: v for k, v in cfg.items() if k not in set(ignore)}


def _diff(saved: dict, wanted: dict, prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(saved) | set(wanted)):
        a, b = saved.get(key, "<absent>"), wanted.get(key, "<absent>")
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(_diff(a, b, f"{prefix}{key}."))
        elif a != b:
            out.append(f"{prefix}{key}: saved {a!r}, requested {b!r}")
    return out


def check_or_write_config(workdir: str, config, ignore: Iterable[str] = RESUMABLE_KEYS) -> None:
    """Writes ``config.json``, or checks it equals the one a previous run in this workdir wrote."""
    wanted = json.loads(json.dumps(config_lib.to_dict(config)))
    path = os.path.join(workdir, "config.json")
    if os.path.exists(path):
        with open(path) as f:
            saved = json.load(f)
        diffs = _diff(_comparable(saved, ignore), _comparable(wanted, ignore))
        if diffs:
            raise ConfigMismatchError(
                f"{workdir} holds a run with another config ({'; '.join(diffs[:5])}). "
                "Nothing was changed. Pass a new --workdir, or move the old one away to start over.")
        return
    if distributed.is_chief():
        os.makedirs(workdir, exist_ok=True)
        with open(path, "w") as f:
            json.dump(wanted, f, indent=2, sort_keys=True)


class Checkpointer:
    """Saves and restores one pytree (the train state) with an orbax CheckpointManager."""

    def __init__(self, workdir: str, config=None, *, save_every: int = 1000, max_to_keep: int = 2,
                 resumable: Iterable[str] = RESUMABLE_KEYS):
        """``resumable``: top-level config keys a resumed run may change (a paper whose state depends on
        ``log_every``, e.g. one checkpointed chunk per ``log_every`` steps, leaves it out)."""
        self.workdir = os.path.abspath(workdir)
        self.directory = os.path.join(self.workdir, "checkpoints")
        if config is not None:
            check_or_write_config(self.workdir, config, ignore=resumable)
        self.save_every = int(save_every)
        options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True)
        self.manager = ocp.CheckpointManager(self.directory, options=options)

    def latest_step(self) -> int | None:
        return self.manager.latest_step()

    def restore_or(self, state):
        """The latest saved state (same structure, dtypes and shardings as ``state``), or ``state``."""
        step = self.latest_step()
        if step is None:
            return state
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
        try:
            restored = self.manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract)))
        except Exception as e:  # orbax raises many types for unreadable files
            raise CorruptCheckpointError(
                f"checkpoint step {step} in {self.directory} cannot be restored ({type(e).__name__}: {e}). "
                "Nothing was deleted. Move that step's folder away to resume from an earlier one, "
                "or use a new --workdir.") from e
        return restored["state"]

    def save(self, step: int, state, *, force: bool = False) -> bool:
        """Saves at multiples of ``save_every`` (or always with force). Returns whether it saved."""
        if not force and (self.save_every <= 0 or step % self.save_every):
            return False
        if self.manager.latest_step() == step:
            return False
        self.manager.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state)), force=True)
        return True

    def close(self) -> None:
        self.manager.wait_until_finished()
        self.manager.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
