"""End-to-end smoke: train -> checkpoint -> resume (no repeated work, same state) -> eval.json."""
import json
import os

import jax
import numpy as np

from papers.neural_des import experiment
from papers.neural_des.configs import default


def test_smoke_train_resume_eval(tmp_path):
    config = default.get_config("smoke")
    workdir = str(tmp_path)
    experiment.train_and_evaluate(config, workdir)
    assert os.path.isdir(os.path.join(workdir, "checkpoints", str(len(experiment.UNITS))))
    first = experiment.load_results(config, workdir)
    # Second run: every unit is finished, so nothing is recomputed and the state is unchanged.
    calls = []
    original = experiment.run_unit
    experiment.run_unit = lambda *a, **k: calls.append(a) or original(*a, **k)
    try:
        experiment.train_and_evaluate(config, workdir)
    finally:
        experiment.run_unit = original
    assert calls == []
    second = experiment.load_results(config, workdir)
    jax.tree.map(np.testing.assert_array_equal, first, second)
    with open(os.path.join(workdir, "eval.json")) as f:
        record = json.load(f)
    assert [c["name"] for c in record["claims"]] == list(experiment.CLAIMS)
    assert os.path.exists(os.path.join(workdir, "sde_gan_marginals.png"))
    assert record["metrics"]["claim1/ode_reversible_vs_dto"] < 1e-10   # robust even at smoke scale
