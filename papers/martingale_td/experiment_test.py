"""End-to-end smoke test: train -> checkpoints -> train again (nothing redone, same state) -> a run killed before
its last checkpoint resumes to the same state -> eval. Bad configs and non-finite fits fail before any write."""
import json
import os
import re
import shutil

import jax
import numpy as np
import pytest

from common import checkpoint, claims, metrics, testing, training
from common.config import ConfigError
from papers.martingale_td import experiment
from papers.martingale_td.configs import default


def _state(config, workdir):
    units = experiment.build_units(config)
    with jax.enable_x64(True):
        with checkpoint.Checkpointer(workdir, config) as ckpt:
            state = ckpt.restore_or(experiment.initial_state(config, units))
    return int(state.step), jax.tree.map(np.asarray, state.results)


def _without_seconds(results):
    """Results without the wall-clock time of each unit (the one leaf a rerun may change)."""
    return {u: {k: v for k, v in r.items() if k != "seconds"} for u, r in results.items()}


def test_train_resume_and_evaluate(tmp_path):
    config = default.get_config("smoke")
    workdir = str(tmp_path / "run")
    units = experiment.build_units(config)
    experiment.train_and_evaluate(config, workdir)
    assert os.path.isdir(os.path.join(workdir, "checkpoints", str(len(units))))
    step, finished = _state(config, workdir)
    assert step == len(units)
    lines = testing.metrics_lines(workdir)
    assert [json.loads(l)["step"] for l in lines] == list(range(1, len(units) + 1))

    record = testing.assert_rerun_redoes_nothing(   # finished: nothing is redone
        lambda: experiment.train_and_evaluate(config, workdir), lambda: _state(config, workdir), workdir)

    # a run killed after logging the last unit but before its checkpoint: resumes there, ends in the same state
    shutil.rmtree(os.path.join(workdir, "checkpoints", str(len(units))))
    assert _state(config, workdir)[0] == len(units) - 1
    experiment.train_and_evaluate(config, workdir)
    step, resumed = _state(config, workdir)
    assert step == len(units)
    jax.tree.map(np.testing.assert_array_equal, _without_seconds(resumed), _without_seconds(finished))
    assert len(testing.metrics_lines(workdir)) == len(units) + 1              # the redone unit's line again
    assert [r["step"] for r in metrics.read_metrics(workdir)] == list(range(1, len(units) + 1))

    assert [c["name"] for c in record["claims"]] == experiment.CLAIMS
    saved = claims.read_eval(workdir)
    assert [c["name"] for c in saved["claims"]] == experiment.CLAIMS
    m = saved["metrics"]
    # robust even at smoke size: the MSTDE fit is far off, the best linear fit is nearly exact
    fine = f"ou/main/s{min(config.strides)}"
    assert m[fine]["mstde"] > 0.3 and m["ou/approximation_floor"] < 0.01
    for fig in ("convergence.png", "value_functions.png"):
        assert os.path.getsize(os.path.join(workdir, fig)) > 0


@pytest.mark.parametrize("override, key", [
    ("conv.n_fine=84", "conv.n_fine"), ("test_degree=3", "test_degree"), ("test_degree=2", "test_degree"),
    ("strides=(3,1)", "strides"), ("conv.strides=(4,1)", "conv.strides"), ("td_lambda=0.0", "td_lambda"),
    ("ou.name='mv'", "ou.name"), ("pool.batches_per_unit=1", "pool"), ("n_paths_brief=48", "n_paths_brief")])
def test_unusable_values_fail_before_any_work(tmp_path, override, key):
    config = default.get_config(f"smoke,{override}")
    for run in (experiment.train_and_evaluate, experiment.evaluate):
        with pytest.raises(ConfigError, match=re.escape(key)):
            run(config, str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()


def test_shipped_configs_pass_the_check():
    for variant in ("smoke", "small", "paper"):
        assert experiment.config_problems(default.get_config(variant)) == []


def test_non_finite_fit_stops_the_run_before_it_is_saved(tmp_path, monkeypatch):
    """A diverged online TD(0) fit (NaN) stops the run at its unit, naming it; nothing of it is logged or saved.
    NaN rows of fits switched off in the config (online.epochs = 0, as in smoke) are not flagged."""
    config = default.get_config("smoke,online.epochs=1")
    units = experiment.build_units(config)

    def diverged(cfg, unit):
        res = dict(experiment.unit_template(cfg, unit))
        theta = np.ones(res["theta"].shape)
        theta[experiment.LINEAR.index("td0")] = np.nan
        return {**res, "theta": theta}

    monkeypatch.setattr(experiment, "run_main", diverged)
    workdir = str(tmp_path / "run")
    with pytest.raises(training.NonFiniteError, match=re.escape(f"{units[0].name}/theta_td0") + ".* at step 1"):
        experiment.train_and_evaluate(config, workdir)
    assert not os.path.exists(os.path.join(workdir, "metrics.jsonl"))
    assert _state(config, workdir)[0] == 0
    with jax.enable_x64(True):
        res = experiment.run_unit(default.get_config("smoke"), units[0])
    training.check_finite(1, experiment.checked_values(default.get_config("smoke"), units[0], res))
