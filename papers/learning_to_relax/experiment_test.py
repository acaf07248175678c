"""End-to-end smoke test: train -> checkpoint -> train again (resumes, nothing redone) -> eval."""
import os
import re

import numpy as np
import pytest

from common import claims, testing
from common.config import ConfigError
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
    for fig in ("cumulative_iterations.png", "regret_and_young.png", "heat_equation.png"):
        assert os.path.getsize(os.path.join(workdir, fig)) > 0
    h = record["metrics"]["heat"]
    assert h["n"] == (config.heat.nx - 1) ** 2 and h["T"] == config.heat.T
    assert h["best_grid_per_instance"] <= h["best_fixed"] <= h["gauss_seidel"]
    assert len(h["chebcb_per_run"]) == config.heat.trials and h["tsallis_inf"] >= h["best_grid_per_instance"]


@pytest.mark.parametrize("override, key", [
    ("chebcb.distribution='mid'", "chebcb.distribution"), ("trials=0", "trials"), ("grid.arms=1", "grid.arms"),
    ("T=4", "T=4"), ("heat.T=5", "heat"), ("context.offset=-1.0", "context.offset")])
def test_unusable_values_fail_before_any_work(tmp_path, override, key):
    config = default.get_config(f"smoke,{override}")
    with pytest.raises(ConfigError, match=re.escape(key)):
        experiment.train_and_evaluate(config, str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()
    assert experiment.config_problems(default.get_config("smoke")) == []
