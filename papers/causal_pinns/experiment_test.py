"""End-to-end smoke test: train -> checkpoints -> a second train retrains nothing -> a window killed
after a mid-run checkpoint resumes bit-identically -> eval writes the claims and figures."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np

from papers.causal_pinns import experiment, trainer
from papers.causal_pinns.configs import default


def test_smoke_train_resume_and_eval(tmp_path):
    config = default.get_config("smoke")
    workdir = str(tmp_path / "run")
    experiment.train(config, workdir)
    unit = os.path.join(workdir, "units", "allen_cahn_causal_w000")
    assert os.path.isdir(os.path.join(unit, "checkpoints")) and os.listdir(os.path.join(unit, "checkpoints"))
    results = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(workdir) for f in fs if f == "result.npz")
    assert len(results) == 6   # AC causal/vanilla (1 window), Lorenz causal/vanilla (2 windows each)
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
