"""End-to-end smoke: train -> checkpoint -> resume (no work repeated, same state) -> eval.json."""
import os

import jax
import numpy as np

from common import claims, testing
from papers.neural_des import experiment
from papers.neural_des.configs import default


def _state(config, workdir):
    from common import checkpoint
    ckpt = checkpoint.Checkpointer(workdir, config, save_every=config.checkpoint_every)
    state = ckpt.restore_or(experiment.initial_state(config))
    ckpt.close()
    return int(state.step), jax.tree.map(np.asarray, state.results)


def test_smoke_train_resume_eval(tmp_path):
    config = default.get_config("smoke")
    workdir = str(tmp_path)
    experiment.train_and_evaluate(config, workdir)
    assert os.path.isdir(os.path.join(workdir, "checkpoints", str(len(experiment.UNITS))))
    # Second run: every unit is finished, so nothing is recomputed, no metrics are written, the state is unchanged.
    calls = []
    original = experiment.run_unit
    experiment.run_unit = lambda *a, **k: calls.append(a) or original(*a, **k)
    try:
        record = testing.assert_rerun_redoes_nothing(lambda: experiment.train_and_evaluate(config, workdir),
                                                     lambda: _state(config, workdir), workdir)
    finally:
        experiment.run_unit = original
    assert calls == []
    assert [c["name"] for c in record["claims"]] == list(experiment.CLAIMS)
    saved = claims.read_eval(workdir)
    assert [c["name"] for c in saved["claims"]] == list(experiment.CLAIMS)
    assert os.path.exists(os.path.join(workdir, "sde_gan_marginals.png"))
    assert os.path.exists(os.path.join(workdir, "cde_vs_gru.png"))
    assert saved["metrics"]["claim1/ode_reversible_vs_dto"] < 1e-10   # robust even at smoke scale
