"""hopfield_layers smoke training in 2 jax.distributed processes (launch/cpu_cluster.sh) equals 1 process."""
import os
import subprocess
import sys

from common.metrics import read_metrics
from tests.checkpoints import assert_same_checkpoints
from tests.helpers import ROOT

CONFIG = "--config=papers/hopfield_layers/configs/default.py:smoke"


def test_two_processes_match_one(tmp_path, hopfield_smoke_run):
    one, two = hopfield_smoke_run, tmp_path / "two"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_") and k != "XLA_FLAGS"}
    env.update(LOG_DIR=str(tmp_path / "logs"), TIMEOUT="300")
    proc = subprocess.run([os.path.join(ROOT, "launch", "cpu_cluster.sh"), "2", "--", sys.executable, "-m",
                           "papers.hopfield_layers.train", CONFIG, f"--workdir={two}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    logs = "\n".join((tmp_path / "logs" / f"process_{i}.log").read_text() for i in range(2))
    assert proc.returncode == 0, logs[-5000:]
    assert "process 1/2" in logs and "process 0/2" in logs
    losses_one = [r["loss"] for r in read_metrics(str(one)) if "loss" in r]
    losses_two = [r["loss"] for r in read_metrics(str(two)) if "loss" in r]
    assert losses_one and len(losses_one) == len(losses_two)
    for a, b in zip(losses_one, losses_two):
        assert abs(a - b) <= 1e-5 * max(1.0, abs(a)), (losses_one, losses_two)
    assert_same_checkpoints(one, two, exact=False, rtol=1e-5, atol=1e-6)
