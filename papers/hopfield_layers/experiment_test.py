"""End-to-end smoke test: train -> checkpoint -> train again (resumes, no repeated work) -> eval; a
killed MIL run resumes bit-identically; the claim checks and the config checks."""
import json
import os

import jax
import numpy as np
import pytest

from common import checkpoint, claims, metrics, testing
from common.config import ConfigError
from papers.hopfield_layers import experiment, memory
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


def _retrieval(classical):
    n = [2, 4, 9, 16, 100]
    return {"num_patterns": n, "betas": [8.0], "dim": 64, "num_queries": 10, "modern": [[1.0]] * len(n),
            "classical": classical}


def test_retrieval_claim_needs_the_classical_net_to_work_below_capacity():
    assert experiment._retrieval_claim(_retrieval([1.0, 1.0, 0.8, 0.2, 0.0]), 8.0).passed
    # A classical net that never retrieves anything is no baseline (d / (4 ln d) = 3.8 at d = 64).
    assert not experiment._retrieval_claim(_retrieval([0.0] * 5), 8.0).passed
    assert not experiment._retrieval_claim(_retrieval([1.0, 1.0, 0.995, 0.2, 0.0]), 8.0).passed


def _regimes(num_clusters, cluster_size, spread):
    cfg = default.get_config("small").regimes
    cfg.update(num_clusters=num_clusters, cluster_size=cluster_size, spread=spread, num_states=8, steps=100)
    return memory.run_regimes(cfg, 0)


def test_regimes_claim_needs_metastable_averages_of_one_cluster():
    assert experiment._regimes_claim(_regimes(4, 8, 0.3)).passed        # 9.3 of 32 averaged, clusters of 8
    # One cluster of 32: no proper subset of similar patterns; the metastable states average 23.9 of 32.
    one = _regimes(1, 32, 0.3)
    assert max(one["fraction"]["metastable"]) == 1.0 and not experiment._regimes_claim(one).passed
    # Loose clusters: the states after the global average average 24.2 of 32 patterns, not one cluster.
    loose = _regimes(4, 8, 0.6)
    assert max(loose["fraction"]["metastable"]) == 1.0 and not experiment._regimes_claim(loose).passed


@pytest.mark.parametrize("key, value, named", [
    ("mil.pooling", "maxx", "'max'"), ("mil.sweep_poolings", ("hopfield", "maxx"), "'attention'"),
    ("mil.num_heads", 3, "[1, 2, 4, 8, 16, 32]"), ("retrieval.beta", 4.0, "8.0"),
    ("mil.dataset", "digitz", "'tiger'"), ("mil.bag_min", 20, "bag_max = 16")])
def test_bad_config_values_fail_before_any_write(tmp_path, key, value, named):
    config = default.get_config("smoke")
    part, name = key.split(".")
    config[part][name] = value
    workdir = str(tmp_path / "run")
    for run in (experiment.train_and_evaluate, experiment.evaluate):
        with pytest.raises(ConfigError) as err:
            run(config, workdir)
        assert key in str(err.value) and named in str(err.value)
    with pytest.raises(ConfigError):
        experiment.check_data(config)
    assert not os.path.exists(workdir)


def test_batch_must_split_over_the_devices():
    config = default.get_config("small")
    experiment.check_batch(config, 8)                                   # 16 rows on 8 devices
    config.mil.batch_size = 12
    experiment.check_batch(config, 4)
    with pytest.raises(ConfigError, match=r"mil.batch_size = 12 .* 8 devices.* e.g. 16"):
        experiment.check_batch(config, 8)


def test_mil_claim_bar_follows_the_data_set():
    aucs = {(p, s, 400): a for s in (0, 1) for p, a in (("hopfield", 0.93), ("mean", 0.80), ("max", 0.94))}
    digits = experiment._mil_claim(aucs, default.get_config("small"))
    assert not digits.passed and "digit-bag" in digits.statement and ">= 0.95" in digits.statement
    tiger = default.get_config("paper")
    tiger.mil.num_train_bags = 400
    claim = experiment._mil_claim(aucs, tiger)
    assert claim.passed and "Tiger MIL" in claim.statement and ">= 0.91" in claim.statement
    assert "0.91" in claim.paper_value
