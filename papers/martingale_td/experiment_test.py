"""End-to-end smoke test: train -> checkpoints -> train again (nothing redone, same state) -> eval."""
import json
import os

import jax
import numpy as np

from common import checkpoint, claims, testing
from papers.martingale_td import experiment
from papers.martingale_td.configs import default


def _state(config, workdir):
    units = experiment.build_units(config)
    with jax.enable_x64(True):
        with checkpoint.Checkpointer(workdir, config) as ckpt:
            state = ckpt.restore_or(experiment.initial_state(config, units))
    return int(state.step), jax.tree.map(np.asarray, state.results)


def test_train_resume_and_evaluate(tmp_path):
    config = default.get_config("smoke")
    workdir = str(tmp_path / "run")
    units = experiment.build_units(config)
    experiment.train_and_evaluate(config, workdir)
    assert os.path.isdir(os.path.join(workdir, "checkpoints", str(len(units))))
    step, _ = _state(config, workdir)
    assert step == len(units)
    lines = testing.metrics_lines(workdir)
    assert [json.loads(l)["step"] for l in lines] == list(range(1, len(units) + 1))

    record = testing.assert_rerun_redoes_nothing(   # finished: nothing is redone
        lambda: experiment.train_and_evaluate(config, workdir), lambda: _state(config, workdir), workdir)

    assert [c["name"] for c in record["claims"]] == experiment.CLAIMS
    saved = claims.read_eval(workdir)
    assert [c["name"] for c in saved["claims"]] == experiment.CLAIMS
    m = saved["metrics"]
    # robust even at smoke size: the MSTDE fit is far off, the best linear fit is nearly exact
    fine = f"ou/main/s{min(config.strides)}"
    assert m[fine]["mstde"] > 0.3 and m["ou/approximation_floor"] < 0.01
    for fig in ("convergence.png", "value_functions.png"):
        assert os.path.getsize(os.path.join(workdir, fig)) > 0
