"""End-to-end smoke test: train -> checkpoints -> train again (resumes, nothing redone) -> eval.json;
and the image path's missing-data error."""
import json
import os

import jax
import numpy as np
import pytest

from common import claims, data
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
