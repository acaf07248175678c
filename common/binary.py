"""The shared body of every paper's thin ``train.py`` / ``eval.py``.

    # papers/<slug>/train.py
    from common import binary
    from papers.<slug> import experiment
    if __name__ == "__main__":
        binary.main(experiment.train_and_evaluate, check_data=experiment.check_data)

gives the flags ``--config=papers/<slug>/configs/default.py:small`` (locked: an override of an
unknown key such as ``--config.optim.lrr=1`` fails at once), ``--workdir`` and ``--check_data_only``, initialises
jax.distributed when a launcher asks for it, runs ``check_data(config)`` (papers that read data sets: it
raises ``common.data.DataNotFoundError`` naming every missing set and its config key, before any work),
and calls ``fn(config, workdir)``. Eval binaries pass ``existing_run=True``: a workdir that holds no run
(no ``config.json`` in it or in a subdirectory) is refused before anything is written to it.
"""
from __future__ import annotations

import logging
import os
from typing import Callable

from absl import app, flags
from ml_collections import config_flags

from common import distributed


QUIET_LIBRARIES = ("/orbax/", "/etils/", "/jax/_src/")


class _QuietLibraries(logging.Filter):
    """Drops INFO records of checkpointing/JAX internals so the progress lines stay readable."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not any(s in record.pathname for s in QUIET_LIBRARIES)


class NoRunError(FileNotFoundError):
    """An eval binary was pointed at a workdir that holds no run."""


def has_run(workdir: str) -> bool:
    """Whether ``workdir`` holds a run: a ``config.json`` in it or in one of its subdirectories (papers that
    train several models keep one run per subdirectory)."""
    if os.path.exists(os.path.join(workdir, "config.json")):
        return True
    return os.path.isdir(workdir) and any(
        os.path.exists(os.path.join(workdir, d, "config.json")) for d in os.listdir(workdir))


def require_run(workdir: str, fn: Callable) -> None:
    """Raises :class:`NoRunError` naming the train command when ``workdir`` holds no run (:func:`has_run`)."""
    if has_run(workdir):
        return
    train = fn.__module__.rsplit(".", 1)[0] + ".train"
    raise NoRunError(f"{workdir} holds no run (no config.json); nothing was written there. Run "
                     f"`python -m {train} --config=... --workdir={workdir}` first, or pass the workdir of a run.")


def main(fn: Callable[[object, str], object], check_data: Callable[[object], None] | None = None,
         existing_run: bool = False) -> None:
    """Defines --config/--workdir/--check_data_only, then runs ``check_data(config)`` (if given) and
    ``fn(config, workdir)`` under absl. ``--check_data_only`` stops after the data check (no workdir, no
    jax.distributed), e.g. on a login node before a pod launch. ``existing_run``: refuse a workdir without
    a run (eval binaries)."""
    config_flag = config_flags.DEFINE_config_file(
        "config", None, "path/to/configs/default.py:variant[,key=value...]", lock_config=True)
    workdir_flag = flags.DEFINE_string("workdir", None, "directory for checkpoints, metrics, eval.json, figures")
    check_only_flag = flags.DEFINE_bool("check_data_only", False,
                                        "only check that the config's data sets are present, then exit")
    flags.mark_flags_as_required(["config"])

    def _run(argv):
        if len(argv) > 1:
            raise app.UsageError(f"unexpected arguments: {argv[1:]}")
        logging.getLogger().setLevel(logging.INFO)
        for handler in logging.getLogger().handlers:
            handler.addFilter(_QuietLibraries())
        if check_only_flag.value:
            if check_data is not None:
                check_data(config_flag.value)
            print("data check passed: every data set this config reads is present" if check_data is not None
                  else "this binary defines no data check (papers that read data sets check them in train)")
            return
        if workdir_flag.value is None:
            raise app.UsageError("--workdir is required (or pass --check_data_only)")
        distributed.initialize()
        workdir = os.path.abspath(os.path.expanduser(workdir_flag.value))
        if existing_run:
            require_run(workdir, fn)
        if check_data is not None:
            check_data(config_flag.value)
        fn(config_flag.value, workdir)

    app.run(_run)
