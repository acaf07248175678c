"""End-to-end smoke test: train -> checkpoints -> train again (resumes, nothing redone) -> eval.json;
config checks before any work; the image path's missing-data and missing-checkpoint errors."""
import json
import os
import re

import jax
import numpy as np
import pytest

from common import claims, data
from common.config import ConfigError
from papers.stochastic_interpolants import experiment, images
from papers.stochastic_interpolants.configs import default

CLAIMS = ["velocity_l2", "sde_beats_ode", "exact_fields_at_floor", "mixture_to_mixture"]


def test_train_resume_and_evaluate(tmp_path):
    config = default.get_config("smoke")
    workdir = str(tmp_path / "run")
    experiment.train_and_evaluate(config, workdir)
    n = config.train.num_steps
    lines, params = {}, {}
    for run in experiment.RUNS:
        assert os.path.isdir(os.path.join(workdir, run, "checkpoints", str(n)))
        with open(os.path.join(workdir, run, "metrics.jsonl")) as f:
            lines[run] = f.readlines()
        assert [json.loads(l)["step"] for l in lines[run]] == list(range(config.log_every, n + 1, config.log_every))
        state = experiment.restore_run(config, os.path.join(workdir, run))
        assert int(state.step) == n
        params[run] = jax.tree.map(np.asarray, state.params)

    for run in experiment.RUNS:                        # resuming a finished run does no work
        experiment.train_run(config, os.path.join(workdir, run), run)
        with open(os.path.join(workdir, run, "metrics.jsonl")) as f:
            assert f.readlines() == lines[run]
        again = experiment.restore_run(config, os.path.join(workdir, run))
        jax.tree.map(np.testing.assert_array_equal, params[run], jax.tree.map(np.asarray, again.params))

    record = claims.read_eval(workdir)
    assert [c["name"] for c in record["claims"]] == CLAIMS
    gauss = record["metrics"]["gauss"]
    assert 0 < gauss["rel_l2_b"] < 2.0
    assert set(gauss["sweep"]["learned"]) == {"0.0", "0.5"}
    for fig in ("eps_sweep.png", "samples.png"):
        assert os.path.getsize(os.path.join(workdir, fig)) > 0


def test_missing_image_data_is_a_clear_error(tmp_path):
    config = default.get_config(f"paper,images.data_dir='{tmp_path / 'absent'}'")
    with pytest.raises(data.DataNotFoundError):
        images.load_images(config.images)
    with pytest.raises(data.DataNotFoundError):
        images.load_images(default.get_config(f"paper,images.dataset=npy,images.data_dir='{tmp_path}'").images)


BAD_CONFIGS = {"score_param=denoise": "score_param", "eval.eps_claim=0.3": "eval.eps_claim",
               "eval.eps_grid=(0.1,0.5)": "eval.eps_grid", "interpolant.gamma=zero": "interpolant.gamma",
               "interpolant.path=trig,interpolant.gamma_scale=4.5": "gamma < 1",
               "interpolant.path=lin": "unknown interpolant path"}


@pytest.mark.parametrize("override, message", BAD_CONFIGS.items())
def test_bad_config_is_refused_before_any_work(tmp_path, override, message):
    config = default.get_config(f"smoke,{override}")
    for fn in (experiment.train_and_evaluate, experiment.evaluate):
        with pytest.raises(ConfigError, match=re.escape(message)):
            fn(config, str(tmp_path))
    assert os.listdir(tmp_path) == []


def test_every_variant_passes_the_config_check():
    for variant in ("smoke", "small", "paper"):
        experiment.validate_config(default.get_config(variant))


def test_image_samples_need_a_checkpoint(tmp_path):
    config = default.get_config(f"paper,images.data_dir='{tmp_path / 'absent'}'")
    with pytest.raises(FileNotFoundError, match="no image checkpoint"):
        images.sample_figure(config, str(tmp_path / "images"), str(tmp_path / "grid.png"))
    assert os.listdir(tmp_path) == []
