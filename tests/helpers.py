"""Shared helpers of the repo-wide tests."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def papers() -> list[str]:
    base = os.path.join(ROOT, "papers")
    return sorted(d for d in os.listdir(base) if os.path.isfile(os.path.join(base, d, "configs", "default.py")))


def run_python(args, env_extra=None, cwd=ROOT, timeout=300, check=True):
    """Runs ``python args...`` in a fresh process (own JAX, own device count); returns CompletedProcess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_") and k != "XLA_FLAGS"}
    env.update(env_extra or {})
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"python {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
                             f"{proc.stderr[-5000:]}")
    return proc
