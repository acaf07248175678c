"""End-to-end smoke test: train -> checkpoint -> train again (resumes, nothing redone) -> eval."""
import json
import os

import jax
import numpy as np

from common import claims
from papers.monotone_dbm import experiment
from papers.monotone_dbm.configs import default

CLAIMS = ["uniqueness", "enumeration", "completion_classification"]


def test_train_resume_and_evaluate(tmp_path):
    config = default.get_config("smoke")
    workdir = str(tmp_path / "run")
    experiment.train_and_evaluate(config, workdir)
    steps = config.train.num_steps
    assert os.path.isdir(os.path.join(workdir, "checkpoints", str(steps)))
    params = jax.tree.map(np.asarray, experiment.restore_params(config, workdir).params)
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        lines = f.readlines()
    assert [json.loads(l)["step"] for l in lines] == list(range(2, steps + 1, 2))
    with open(os.path.join(workdir, "results", "uniqueness.json")) as f:
        unique = f.read()

    experiment.train_and_evaluate(config, workdir)             # everything done: nothing redone
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        assert f.readlines() == lines
    with open(os.path.join(workdir, "results", "uniqueness.json")) as f:
        assert f.read() == unique
    again = jax.tree.map(np.asarray, experiment.restore_params(config, workdir).params)
    jax.tree.map(np.testing.assert_array_equal, params, again)

    record = claims.read_eval(workdir)
    assert [c["name"] for c in record["claims"]] == CLAIMS
    assert record["metrics"]["enumeration"]["mf_residual"] < 1e-6
    assert record["metrics"]["uniqueness"]["monotone"]["spread"] < 1e-4
    assert os.path.getsize(os.path.join(workdir, "completions.png")) > 0
