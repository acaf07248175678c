"""End-to-end smoke test: train -> checkpoints -> window-to-window hand-over -> a second train retrains
nothing -> a window killed after a mid-run checkpoint resumes bit-identically -> eval writes the claims and
figures and refuses another config. Config errors are raised before any work."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from common import checkpoint
from papers.causal_pinns import experiment, problems, trainer
from papers.causal_pinns.configs import default


def _result(workdir: str, unit: str) -> dict:
    with np.load(os.path.join(workdir, "units", unit, "result.npz")) as f:
        return dict(f)


def _check_hand_over(workdir: str, config) -> None:
    """Each later window starts from the state its predecessor predicted at the window end (hard ICs: exactly)."""
    x_ic = problems.pde.grid(config.allen_cahn.num_ic, 2.0, -1.0)
    for method in ("causal", "vanilla"):
        ac0, ac1 = _result(workdir, f"allen_cahn_{method}_w000"), _result(workdir, f"allen_cahn_{method}_w001")
        np.testing.assert_allclose(ac0["ic"], problems.initial_condition(problems.ALLEN_CAHN, x_ic), atol=1e-6)
        np.testing.assert_array_equal(ac1["ic"], ac0["next_ic"])
        assert np.abs(ac0["next_ic"] - ac0["ic"]).max() > 1e-3          # the field moved during window 0
        np.testing.assert_allclose(ac1["pred"][0], ac0["next_ic"], atol=1e-5)   # u(t1, x) = handed-over values
        lz0, lz1 = _result(workdir, f"lorenz_{method}_w000"), _result(workdir, f"lorenz_{method}_w001")
        np.testing.assert_array_equal(lz1["ic"], lz0["next_ic"])
        np.testing.assert_allclose(lz1["pred"][0], lz0["next_ic"], rtol=1e-6)


def test_smoke_train_resume_and_eval(tmp_path):
    config = default.get_config("smoke")
    workdir = str(tmp_path / "run")
    experiment.train(config, workdir)
    unit = os.path.join(workdir, "units", "allen_cahn_causal_w000")
    assert os.path.isdir(os.path.join(unit, "checkpoints")) and os.listdir(os.path.join(unit, "checkpoints"))
    results = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(workdir) for f in fs if f == "result.npz")
    assert len(results) == 8   # AC and Lorenz, causal and vanilla, 2 windows each
    _check_hand_over(workdir, config)
    stamps = {p: os.path.getmtime(p) for p in results}
    with np.load(os.path.join(unit, "result.npz")) as f:
        pred = f["pred"]
        assert int(f["steps"]) <= config.allen_cahn.steps_per_eps and f["hist"].shape[1] == len(trainer.HIST_COLUMNS)
    experiment.train(config, workdir)   # a finished workdir: nothing is retrained
    assert {p: os.path.getmtime(p) for p in results} == stamps
    with np.load(os.path.join(unit, "result.npz")) as f:
        np.testing.assert_array_equal(f["pred"], pred)
    # a window killed after its step-10 checkpoint: drop its later checkpoint and result, train again
    killed = os.path.join(workdir, "units", "lorenz_causal_w001")
    with np.load(os.path.join(killed, "result.npz")) as f:
        killed_pred, killed_steps = f["pred"], int(f["steps"])
    assert killed_steps == 20 and sorted(os.listdir(os.path.join(killed, "checkpoints"))) == ["10", "20"]
    shutil.rmtree(os.path.join(killed, "checkpoints", "20"))
    os.remove(os.path.join(killed, "result.npz"))
    experiment.train(config, workdir)
    with np.load(os.path.join(killed, "result.npz")) as f:
        np.testing.assert_array_equal(f["pred"], killed_pred)   # resumed from step 10, bit-identical
        assert int(f["steps"]) == 20
    assert all(os.path.getmtime(p) == t for p, t in stamps.items() if "lorenz_causal_w001" not in p)
    record = experiment.evaluate(config, workdir)
    with open(os.path.join(workdir, "eval.json")) as f:
        saved = json.load(f)
    assert [c["name"] for c in saved["claims"]] == ["1_allen_cahn", "2_lorenz", "3_criterion"]
    assert record["metrics"]["allen_cahn/vanilla/rel_l2"] > 0
    for fig in ("allen_cahn.png", "lorenz.png", "causal_weights.png", "lorenz_criterion.png"):
        assert os.path.exists(os.path.join(workdir, fig)), fig
    # eval and a resumed train compare the config with the run's config.json (log_every shapes the histories)
    with pytest.raises(checkpoint.ConfigMismatchError):
        experiment.evaluate(default.get_config("smoke,eval.low_error=0.5"), workdir)
    with pytest.raises(checkpoint.ConfigMismatchError):
        experiment.train(default.get_config("smoke,log_every=5"), workdir)
    experiment.train(default.get_config("smoke,checkpoint_every=5"), workdir)   # resumable: nothing to do


@pytest.mark.parametrize("override", [
    "allen_cahn.arch='mpl'", "methods=('causal',)", "methods=('causal','adam')", "lorenz.eps=()",
    "lorenz.window=0.3", "problems=('allen_cahn','lorentz')", "allen_cahn.ref_num_t=7", "delta=1.5"])
def test_config_errors_are_raised_before_any_work(tmp_path, override):
    workdir = str(tmp_path / "run")
    with pytest.raises(ValueError, match="invalid causal_pinns config"):
        experiment.train(default.get_config(f"smoke,{override}"), workdir)
    assert not os.path.exists(workdir)
    os.makedirs(workdir)
    with open(os.path.join(workdir, "config.json"), "w") as f:
        f.write("{}")
    with pytest.raises(ValueError, match="invalid causal_pinns config"):
        experiment.evaluate(default.get_config(f"smoke,{override}"), workdir)
