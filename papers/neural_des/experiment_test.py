"""End-to-end smoke: train -> checkpoint -> resume (no work repeated, same state) -> eval.json."""
import json
import os

import jax
import numpy as np
import pytest

from common import claims, testing
from papers.neural_des import experiment
from papers.neural_des.configs import default


def _state(config, workdir):
    from common import checkpoint
    ckpt = checkpoint.Checkpointer(workdir, config, save_every=config.checkpoint_every)
    state = ckpt.restore_or(experiment.initial_state(config))
    ckpt.close()
    return int(state.step), jax.tree.map(np.asarray, state.results)


@pytest.fixture(scope="module")
def smoke_workdir(tmp_path_factory):
    """A finished smoke run (train + eval), shared by the tests of this module."""
    workdir = str(tmp_path_factory.mktemp("smoke"))
    experiment.train_and_evaluate(default.get_config("smoke"), workdir)
    return workdir


def test_smoke_train_resume_eval(smoke_workdir):
    config = default.get_config("smoke")
    workdir = smoke_workdir
    assert os.path.isdir(os.path.join(workdir, "checkpoints", str(len(experiment.UNITS))))
    # Second run: every unit is finished, so nothing is recomputed, no metrics are written, the state is unchanged.
    calls = []
    original = experiment.run_unit
    experiment.run_unit = lambda *a, **k: calls.append(a) or original(*a, **k)
    try:
        record = testing.assert_rerun_redoes_nothing(lambda: experiment.train_and_evaluate(config, workdir),
                                                     lambda: _state(config, workdir), workdir)
    finally:
        experiment.run_unit = original
    assert calls == []
    assert [c["name"] for c in record["claims"]] == list(experiment.CLAIMS)
    saved = claims.read_eval(workdir)
    assert [c["name"] for c in saved["claims"]] == list(experiment.CLAIMS)
    assert os.path.exists(os.path.join(workdir, "sde_gan_marginals.png"))
    assert os.path.exists(os.path.join(workdir, "cde_vs_gru.png"))
    assert saved["metrics"]["claim1/ode_reversible_vs_dto"] < 1e-10   # robust even at smoke scale


def _steps(path):
    with open(path) as f:
        return [json.loads(line)["step"] for line in f if line.strip()]


def test_smoke_metrics_records_have_distinct_steps(smoke_workdir):
    """One record per unit at step 1..4 in metrics.jsonl; the GAN curve at its own steps in claim4_gan/."""
    assert _steps(os.path.join(smoke_workdir, "metrics.jsonl")) == [1, 2, 3, 4]
    config = default.get_config("smoke")
    gan_steps = _steps(os.path.join(smoke_workdir, "claim4_gan", "metrics.jsonl"))
    assert gan_steps == list(range(config.gan.log_every, config.gan.steps + 1, config.gan.log_every))


BAD_SETTINGS = [
    ("cde.dataset", "foo"), ("cde.interpolation", "cubic"), ("cde.solver", "euler"), ("cde.n_classes", 3),
    ("cde.drop_rates", (0.3, 1.0)), ("cde.batch_size", 2048), ("cde.n_test", 0), ("cde.eval_chunk", 0),
    ("gan.batch_size", 8192), ("gan.n_eval", 8192), ("gan.n_eval", 8),
]


@pytest.mark.parametrize("key,value", BAD_SETTINGS)
def test_config_check_names_each_setting_that_would_fail_late(key, value):
    config = default.get_config("small")
    section, name = key.split(".")
    config[section][name] = value
    with pytest.raises(experiment.ConfigError, match=key.replace(".", r"\.")):
        experiment.check_data(config)          # the train binary's check before any work


def test_config_check_batch_against_device_count():
    config = default.get_config("small")        # cde.batch_size 32
    experiment.check_config(config, n_devices=8)
    with pytest.raises(experiment.ConfigError, match=r"cde\.batch_size=32.*3 devices"):
        experiment.check_config(config, n_devices=3)


@pytest.mark.parametrize("arg", ["smoke", "small", "paper", "paper,cde.dataset=speech_commands,cde.n_classes=10"])
def test_config_check_accepts_the_shipped_configs(arg):
    experiment.check_config(default.get_config(arg), n_devices=1)


def test_train_refuses_a_bad_config_before_writing(tmp_path):
    config = default.get_config("smoke")
    config.cde.interpolation = "cubic"
    with pytest.raises(experiment.ConfigError):
        experiment.train_and_evaluate(config, str(tmp_path))
    assert os.listdir(tmp_path) == []
