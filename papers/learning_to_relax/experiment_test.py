"""End-to-end smoke test: train -> checkpoint -> train again (resumes, nothing redone) -> eval."""
import os

import numpy as np

from common import claims, testing
from papers.learning_to_relax import experiment
from papers.learning_to_relax.configs import default

CLAIMS = ["1_grid_matches_young", "2a_tsallis_vs_best_fixed", "2b_tsallis_vs_gauss_seidel", "2c_sublinear_regret",
          "3a_chebcb_beats_best_fixed", "3b_chebcb_near_instance_optimal"]


def test_train_resume_and_evaluate(tmp_path):
    config = default.get_config("smoke")
    workdir = str(tmp_path / "run")
    results = testing.assert_units_run_once(lambda: experiment.train_and_evaluate(config, workdir), workdir,
                                            config, lambda: experiment.initial_state(config),
                                            len(experiment.unit_names(config)))
    res = results["high/0"]
    assert res["costs"].shape == (config.T, config.grid.arms) and res["costs"].min() >= 1
    assert np.all(res["costs"].max(axis=1) <= config.maxiter)

    record = claims.read_eval(workdir)
    assert [c["name"] for c in record["claims"]] == CLAIMS
    m = record["metrics"]["high"]
    assert m["best_fixed"] <= m["gauss_seidel"] and m["best_grid_per_instance"] <= m["best_fixed"]
    for fig in ("cumulative_iterations.png", "regret_and_young.png"):
        assert os.path.getsize(os.path.join(workdir, fig)) > 0
