"""End-to-end smoke test: train -> checkpoint -> train again (resumes, nothing redone) -> eval."""
import json
import os

import jax
import numpy as np

from common import claims, testing
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
