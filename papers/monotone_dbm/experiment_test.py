"""End-to-end smoke test: train -> checkpoint -> train again (resumes, nothing redone) -> eval; and the
checks that must stop a run before any work or write."""
import json
import os

import jax
import numpy as np
import pytest

from common import checkpoint, claims, testing
from common.config import ConfigError
from papers.monotone_dbm import experiment
from papers.monotone_dbm.configs import default

CLAIMS = ["uniqueness", "enumeration", "completion_classification"]


def test_train_resume_and_evaluate(tmp_path):
    config = default.get_config("smoke")
    workdir = str(tmp_path / "run")
    experiment.train_and_evaluate(config, workdir)
    steps = config.train.num_steps
    assert os.path.isdir(os.path.join(workdir, "checkpoints", str(steps)))
    assert [json.loads(l)["step"] for l in testing.metrics_lines(workdir)] == list(range(2, steps + 1, 2))
    with open(os.path.join(workdir, "results", "uniqueness.json")) as f:
        unique = f.read()

    def load_state():
        state = experiment.restore_params(config, workdir)
        return int(state.step), jax.tree.map(np.asarray, state.params)

    # everything done: the rerun writes no metrics, leaves the checkpoint and the analyses as they were
    testing.assert_rerun_redoes_nothing(lambda: experiment.train_and_evaluate(config, workdir), load_state, workdir)
    with open(os.path.join(workdir, "results", "uniqueness.json")) as f:
        assert f.read() == unique

    record = claims.read_eval(workdir)
    assert [c["name"] for c in record["claims"]] == CLAIMS
    assert record["metrics"]["train_steps"] == steps
    assert record["metrics"]["enumeration"]["mf_residual"] < 1e-6
    assert record["metrics"]["uniqueness"]["monotone"]["spread"] < 1e-4
    assert os.path.getsize(os.path.join(workdir, "completions.png")) > 0


@pytest.mark.parametrize("override", ["data.num_bins=5", "data.num_bins=3", "model.layers=((8,8,1,4),(1,1,1,9))"])
def test_model_that_does_not_fit_the_data_is_refused_before_any_work(tmp_path, override):
    """More bins than pixel categories gave all-zero clamps and a NaN loss; fewer trained silently."""
    config = default.get_config(f"smoke,{override}")
    workdir = tmp_path / "run"
    with pytest.raises(ConfigError):
        experiment.check_data(config)
    with pytest.raises(ConfigError):
        experiment.train_and_evaluate(config, str(workdir))
    assert not workdir.exists()


def test_train_on_a_workdir_of_another_config_stops_before_the_analyses(tmp_path):
    checkpoint.check_or_write_config(str(tmp_path), default.get_config("smoke,seed=1"))
    with pytest.raises(checkpoint.ConfigMismatchError):
        experiment.train_and_evaluate(default.get_config("smoke"), str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["config.json"]


def test_eval_without_a_checkpoint_writes_nothing(tmp_path):
    config = default.get_config("smoke")
    checkpoint.check_or_write_config(str(tmp_path), config)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        experiment.evaluate(config, str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["config.json"]
