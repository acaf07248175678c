"""End-to-end smoke test: train -> checkpoint -> train again (resumes, no repeated work) -> eval;
and a killed MIL run resumes bit-identically."""
import json
import os

import jax
import numpy as np
import pytest

from common import checkpoint, claims, metrics, testing
from papers.hopfield_layers import experiment
from papers.hopfield_layers.configs import default

CLAIMS = ["retrieval", "energy_regimes", "attention_equivalence", "mil_pooling"]


def _params(config, workdir):
    state = experiment.init_state(config, jax.random.PRNGKey(config.seed))
    with checkpoint.Checkpointer(workdir, config) as ckpt:
        state = ckpt.restore_or(state)
    return int(state.step), jax.tree.map(np.asarray, state.params)


def test_train_resume_and_evaluate(tmp_path):
    config = default.get_config("smoke")
    workdir = str(tmp_path / "run")
    experiment.train_and_evaluate(config, workdir)
    assert os.path.isdir(os.path.join(workdir, "checkpoints", str(config.mil.num_steps)))
    step, _ = _params(config, workdir)
    assert step == config.mil.num_steps
    lines = testing.metrics_lines(workdir)
    assert [json.loads(l)["step"] for l in lines] == list(range(2, config.mil.num_steps + 1, 2))

    testing.assert_rerun_redoes_nothing(   # finished: nothing is redone
        lambda: experiment.train_and_evaluate(config, workdir), lambda: _params(config, workdir), workdir)

    record = claims.read_eval(workdir)
    assert [c["name"] for c in record["claims"]] == CLAIMS
    assert record["metrics"]["attention_max_abs_diff"] < 1e-5
    for fig in ("retrieval.png", "regimes.png", "mil_auc.png"):
        assert os.path.getsize(os.path.join(workdir, fig)) > 0


def test_killed_mil_run_resumes_bit_identically(tmp_path, monkeypatch):
    config = default.get_config("smoke")
    full, killed = str(tmp_path / "full"), str(tmp_path / "killed")
    experiment.train_mil(config, full)

    real_get_batch = experiment.get_batch

    def dying(cfg, step):
        if step == 7:
            raise KeyboardInterrupt("killed")
        return real_get_batch(cfg, step)

    monkeypatch.setattr(experiment, "get_batch", dying)
    with pytest.raises(KeyboardInterrupt):
        experiment.train_mil(config, killed)
    monkeypatch.setattr(experiment, "get_batch", real_get_batch)
    assert _params(config, killed)[0] == 6                    # last checkpoint before the kill
    experiment.train_mil(config, killed)

    (s1, p1), (s2, p2) = _params(config, full), _params(config, killed)
    assert s1 == s2 == config.mil.num_steps
    jax.tree.map(np.testing.assert_array_equal, p1, p2)
    losses = lambda d: {r["step"]: r["loss"] for r in metrics.read_metrics(d)}
    assert losses(full) == losses(killed)
