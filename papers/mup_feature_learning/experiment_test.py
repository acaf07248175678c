"""End-to-end smoke test: train -> checkpoint -> train again (resumes, nothing redone) -> eval; configs."""
import os

import jax
import numpy as np
import pytest

from common import checkpoint, claims, testing
from common.config import ConfigError
from papers.mup_feature_learning import experiment
from papers.mup_feature_learning.configs import default

CLAIMS = ["1_feature_movement", "2_lr_transfer_adam", "3a_mup_networks_approach_mup_inf",
          "3b_ntk_networks_approach_ntk_limit", "4_fewshot_mup_beats_kernel_limits",
          "5_word2vec_mup_inf_learns_embeddings"]


def _state(config, workdir):
    with checkpoint.Checkpointer(workdir, config) as ckpt:
        state = ckpt.restore_or(experiment.initial_state(config))
        return int(state.step), jax.tree.map(np.asarray, state.results)


def test_train_resume_and_evaluate(tmp_path):
    config = default.get_config("smoke")
    workdir = str(tmp_path / "run")
    experiment.train_and_evaluate(config, workdir)
    n_units = len(experiment.UNITS)
    assert os.path.isdir(os.path.join(workdir, "checkpoints", str(n_units)))
    step, results = _state(config, workdir)
    assert step == n_units
    mv = results["movement"]["movement"]
    assert mv.shape == (2, 1, 1) and np.all(mv > 0)
    # μP and NTK coincide at the base width (64): same init keys, same network, same movement
    np.testing.assert_allclose(mv[0, 0], mv[1, 0], rtol=1e-5)
    assert np.all(np.isfinite(results["transfer"]["loss"]))
    acc = results["digits"]["mup/acc"]
    assert np.all((acc >= 0) & (acc <= 1))
    lines = testing.metrics_lines(workdir)
    assert len(lines) == n_units

    testing.assert_rerun_redoes_nothing(   # finished: nothing is redone
        lambda: experiment.train_and_evaluate(config, workdir), lambda: _state(config, workdir), workdir)

    record = claims.read_eval(workdir)
    assert [c["name"] for c in record["claims"]] == CLAIMS
    assert os.path.getsize(os.path.join(workdir, "lr_transfer.png")) > 0


def test_configs_parse_and_reject_unknown_keys():
    for v in ("smoke", "small", "paper"):
        assert default.get_config(v).seed == 0
    assert default.get_config("small,seed=3").seed == 3
    assert default.get_config("paper").digits.family == "omniglot"
    with pytest.raises(ConfigError):
        default.get_config("small,movement.lrr=3")


def test_paper_data_loaders_fail_clearly(tmp_path):
    from common.data import DataNotFoundError
    from papers.mup_feature_learning import data
    with pytest.raises(DataNotFoundError, match="Omniglot"):
        data.omniglot_pool(str(tmp_path))
    with pytest.raises(DataNotFoundError, match="text8"):
        data.text8_tokens(str(tmp_path), 100)
