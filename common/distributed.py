"""Multi-host start-up. Call :func:`initialize` first thing in a binary, before any JAX computation.

``jax.distributed`` is initialised only when the launcher sets these environment variables
(launch/cpu_cluster.sh, launch/slurm.sbatch and launch/tpu_pod.sh set them):

  JAX_COORDINATOR_ADDRESS  host:port of process 0
  JAX_NUM_PROCESSES        number of processes
  JAX_PROCESS_ID           this process's index

On a TPU pod slice, ``JAX_AUTO_DISTRIBUTED=1`` calls ``jax.distributed.initialize()`` without
arguments (the TPU runtime supplies them). Without any of these, a single process runs.
"""
from __future__ import annotations

import logging
import os

import jax

_ENV_KEYS = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")
_initialized = False


def launcher_environment() -> dict[str, str] | None:
    """The launcher's settings, or None for a single process. Raises if they are half set."""
    present = {k: os.environ[k] for k in _ENV_KEYS if os.environ.get(k)}
    if not present:
        return None
    missing = [k for k in _ENV_KEYS if k not in present]
    if missing:
        raise RuntimeError(f"multi-process launch needs all of {_ENV_KEYS}; missing {missing}. "
                           "Use a script in launch/ or unset the others.")
    return present


def initialize() -> None:
    """Initialises jax.distributed when the launcher asks for it, and logs the topology. Idempotent."""
    global _initialized
    if _initialized:
        return
    env = launcher_environment()
    if env is not None:
        jax.distributed.initialize(
            coordinator_address=env["JAX_COORDINATOR_ADDRESS"],
            num_processes=int(env["JAX_NUM_PROCESSES"]),
            process_id=int(env["JAX_PROCESS_ID"]),
        )
    elif os.environ.get("JAX_AUTO_DISTRIBUTED") == "1":
        jax.distributed.initialize()
    _initialized = True
    logging.info("%s", describe())


def describe() -> str:
    """One line: process index/count and local/global devices."""
    return (f"process {jax.process_index()}/{jax.process_count()}, "
            f"{jax.local_device_count()} local / {jax.device_count()} global devices "
            f"({jax.devices()[0].platform})")


def is_chief() -> bool:
    """True on process 0, the only process that writes files."""
    return jax.process_index() == 0
