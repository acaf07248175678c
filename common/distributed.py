"""Multi-host start-up. Call :func:`initialize` first thing in a binary, before any JAX computation.

``jax.distributed`` is initialised only when the launcher sets these environment variables
(launch/cpu_cluster.sh, launch/slurm.sbatch and launch/tpu_pod.sh set them):

  JAX_COORDINATOR_ADDRESS  host:port of process 0
  JAX_NUM_PROCESSES        number of processes
  JAX_PROCESS_ID           this process's index

On a TPU pod slice, ``JAX_AUTO_DISTRIBUTED=1`` calls ``jax.distributed.initialize()`` without
arguments (the TPU runtime supplies them). Without any of these, a single process runs.

``JAX_INIT_TIMEOUT`` (seconds, default 300) bounds the wait for the other processes: a process that finds no
coordinator in that time stops with an error naming it and what to check, instead of hanging (a missing
peer past the coordinator is reported by jax itself, which stops the process after the same time).
"""
from __future__ import annotations

import logging
import os
import socket
import time

import jax

_ENV_KEYS = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")
DEFAULT_INIT_TIMEOUT = 300
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


def _int_env(name: str, default: int | None = None) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise RuntimeError(f"{name}={raw!r} is not an integer; the launch scripts in launch/ set it") from None


def init_timeout() -> int:
    """Seconds to wait for the other processes (``JAX_INIT_TIMEOUT``, default 300)."""
    seconds = _int_env("JAX_INIT_TIMEOUT", DEFAULT_INIT_TIMEOUT)
    if seconds <= 0:
        raise RuntimeError(f"JAX_INIT_TIMEOUT must be positive (seconds), got {seconds}")
    return seconds


def initialize() -> None:
    """Initialises jax.distributed when the launcher asks for it, and logs the topology. Idempotent.
    Raises RuntimeError saying what to check when the settings are malformed, when process 0's port is taken,
    or when another process finds no coordinator within :func:`init_timeout`."""
    global _initialized
    if _initialized:
        return
    env = launcher_environment()
    timeout = init_timeout()
    if env is not None:
        n, pid = _int_env("JAX_NUM_PROCESSES"), _int_env("JAX_PROCESS_ID")
        if not 0 <= pid < n:
            raise RuntimeError(f"JAX_PROCESS_ID={pid} must lie in [0, JAX_NUM_PROCESSES={n})")
        address = env["JAX_COORDINATOR_ADDRESS"]
        started = time.monotonic()
        if pid == 0:
            _check_port_free(address)
        else:
            _wait_for_coordinator(address, timeout)
        remaining = max(1, int(timeout - (time.monotonic() - started)))
        jax.distributed.initialize(coordinator_address=address, num_processes=n, process_id=pid,
                                   initialization_timeout=remaining)
    elif os.environ.get("JAX_AUTO_DISTRIBUTED") == "1":
        jax.distributed.initialize(initialization_timeout=timeout)
    _initialized = True
    logging.info("%s", describe())


def _split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise RuntimeError(f"JAX_COORDINATOR_ADDRESS={address!r} must be host:port")
    return host.strip("[]"), int(port)                # [::1]:1234 -> ::1


def _check_port_free(address: str) -> None:
    """Process 0 hosts the coordinator: its port must not be held by another program (an earlier run)."""
    _, port = _split_address(address)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("", port))
        except OSError as e:
            raise RuntimeError(f"process 0 cannot host the JAX coordinator on port {port} ({e.strerror}): another "
                               "program, often an earlier run that is still alive, holds it. Stop it or choose "
                               "another port in JAX_COORDINATOR_ADDRESS.") from None


def _wait_for_coordinator(address: str, timeout: float) -> None:
    """Processes other than 0 first wait until the coordinator's port accepts connections: jax itself aborts
    the process with a C++ check failure when the coordinator never answers."""
    host, port = _split_address(address)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=max(0.1, min(5.0, deadline - time.monotonic()))):
                return
        except OSError as e:
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"could not join the JAX cluster: no coordinator answered at {address} within {timeout:g} s "
                    f"({e.strerror or type(e).__name__}). Check that process 0 is running (its log says why if it "
                    "stopped), that every process has the same JAX_COORDINATOR_ADDRESS and JAX_NUM_PROCESSES, and "
                    "that the port is reachable from this host; JAX_INIT_TIMEOUT=<seconds> waits longer.") from None
            time.sleep(0.25)


def describe() -> str:
    """One line: process index/count and local/global devices."""
    return (f"process {jax.process_index()}/{jax.process_count()}, "
            f"{jax.local_device_count()} local / {jax.device_count()} global devices "
            f"({jax.devices()[0].platform})")


def is_chief() -> bool:
    """True on process 0, the only process that writes files."""
    return jax.process_index() == 0
