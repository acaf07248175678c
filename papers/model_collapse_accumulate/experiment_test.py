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


def test_config_check_rejects_values_that_parse_but_cannot_run(tmp_path):
    import pytest
    from common.config import ConfigError
    for v in ("smoke", "small", "paper,data_dir=/data"):
        experiment.check_config(default.get_config(v))
    for override, words in (("lm.heads=3", "divisible"), ("linear.T=11", "T-d-1"), ("vae.n_train=1797", "held-out"),
                            ("lm.corpus=tinystories", "data_dir is empty"), ("gaussian.n_real=5", "full-rank"),
                            ("vae.generations=1", ">= 2")):
        with pytest.raises(ConfigError, match=words):
            experiment.check_data(default.get_config(f"small,{override}"))
    workdir = tmp_path / "never"
    with pytest.raises(ConfigError):
        experiment.train_and_evaluate(default.get_config("paper"), str(workdir))      # no data_dir
    assert not workdir.exists()


def test_vae_accumulate_claim_asks_for_a_slowing_rise():
    """A bounded sum-1/i^2 rise passes 2d; a linear drift of 0.25 nats per generation stays inside the 5% band
    of generation 1 but fails, as does a rise that speeds up."""
    config = default.get_config("small")
    s = np.cumsum(1.0 / np.arange(1, 6) ** 2)
    replace = 25.0 + np.arange(5.0)
    verdict = {}
    for name, acc in (("bounded", 24.0 + s), ("linear", 24.0 + 0.25 * np.arange(5)),
                      ("speeding", 24.0 + 0.05 * np.arange(5) ** 2)):
        results = {"vae/replace": {"nelbo": replace}, "vae/accumulate": {"nelbo": acc}}
        metrics, out = experiment._vae_claims(config, results)
        assert metrics["vae"]["accumulate"]["max_rel_dev_from_first"] <= 0.05
        verdict[name] = [c.passed for c in out]
    assert verdict == {"bounded": [True, True], "linear": [True, False], "speeding": [True, False]}
