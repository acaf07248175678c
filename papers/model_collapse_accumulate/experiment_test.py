"""End-to-end smoke test: train -> checkpoint -> train again (resumes, nothing redone) -> eval."""
import os

import numpy as np

from common import claims, testing
from papers.model_collapse_accumulate import experiment
from papers.model_collapse_accumulate.configs import default

CLAIMS = ["1a_linear_replace_linear_growth", "1b_linear_accumulate_bounded", "2a_gaussian_replace_collapses",
          "2b_gaussian_accumulate_stable", "2c_vae_replace_collapses", "2d_vae_accumulate_stable", "3a_lm_replace_collapses", "3b_lm_accumulate_stable"]


def test_train_resume_and_evaluate(tmp_path):
    config = default.get_config("smoke")
    workdir = str(tmp_path / "run")
    results = testing.assert_units_run_once(lambda: experiment.train_and_evaluate(config, workdir), workdir,
                                            config, lambda: experiment.initial_state(config),
                                            len(experiment.unit_names(config)))
    assert results["gaussian/replace"]["nll"].shape == (config.gaussian.reps, config.gaussian.generations)
    assert np.all(np.isfinite(results["vae/accumulate"]["nelbo"])) and np.all(results["vae/accumulate"]["nelbo"] > 0)
    # generation 1 sees only real data in both regimes and both use the same key
    np.testing.assert_allclose(results["vae/replace"]["nelbo"][0], results["vae/accumulate"]["nelbo"][0], rtol=1e-5)
    assert np.all(np.isfinite(results["lm/replace"]["ce"])) and np.all(results["lm/replace"]["ce"] > 0)

    record = claims.read_eval(workdir)
    assert [c["name"] for c in record["claims"]] == CLAIMS
    assert os.path.getsize(os.path.join(workdir, "replace_vs_accumulate.png")) > 0


def test_configs_parse_and_reject_unknown_keys():
    import pytest
    from common.config import ConfigError
    for v in ("smoke", "small", "paper"):
        assert default.get_config(v).seed == 0
    assert default.get_config("small,seed=3").seed == 3
    with pytest.raises(ConfigError):
        default.get_config("small,linear.dd=3")
