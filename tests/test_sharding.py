"""The sharded train step of hopfield_layers on 8 simulated CPU devices equals the 1-device step."""
import re

from tests.helpers import run_python

EIGHT_DEVICES = {"XLA_FLAGS": "--xla_force_host_platform_device_count=8", "JAX_PLATFORMS": "cpu"}


def test_sharded_step_equals_single_device_step():
    out = run_python(["-m", "tests.fixtures.hopfield_sharded_step"], EIGHT_DEVICES).stdout
    diffs = dict(re.findall(r"MAXDIFF (\w+) (\S+)", out))
    assert float(diffs["params"]) < 1e-6, out
    assert float(diffs["loss"]) < 1e-6, out
    assert float(re.search(r"CHANGED (\S+)", out).group(1)) > 1e-6, "the step did not change the params"
    assert re.search(r"BATCH_SHARDING (PartitionSpec|P)\('data',?\)", out), out
    assert "does not divide by the 8 devices" in out


def test_train_binary_rejects_indivisible_batch(tmp_path):
    proc = run_python(["-m", "papers.hopfield_layers.train",
                       "--config=papers/hopfield_layers/configs/default.py:smoke",
                       "--config.mil.batch_size=12", f"--workdir={tmp_path}"], EIGHT_DEVICES, check=False)
    assert proc.returncode != 0
    assert "does not divide by the 8 devices" in proc.stderr
    assert not (tmp_path / "checkpoints").exists() or not any((tmp_path / "checkpoints").iterdir())
