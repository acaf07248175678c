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
    for unset_or_empty in ("", str(tmp_path)):
        with pytest.raises(DataNotFoundError, match="Omniglot.*digits.data_dir"):
            data.omniglot_pool(unset_or_empty)
        with pytest.raises(DataNotFoundError, match="text8.*w2v.data_dir"):
            data.text8_tokens(unset_or_empty, 100)
    paper = default.get_config("paper")
    assert paper.digits.data_dir == "" and paper.w2v.data_dir == ""     # no placeholder paths


def _fake_omniglot(root, n_chars=(3, 2), per_class=2, size=6):
    """images_background / images_evaluation with n_chars characters of random binary PNGs; returns the images."""
    from PIL import Image
    rng = np.random.default_rng(0)
    out = []
    for split, n in zip(("images_background", "images_evaluation"), n_chars):
        for c in range(n):
            cdir = root / split / "alpha" / f"character{c:02d}"
            cdir.mkdir(parents=True)
            imgs = (rng.random((per_class, size, size)) < 0.5).astype(np.uint8) * 255
            for i, img in enumerate(imgs):
                Image.fromarray(img).save(cdir / f"{i}.png")
            out.append(1.0 - imgs / 255.0)
    return out


def test_omniglot_pool_adds_rotated_training_classes(tmp_path):
    from papers.mup_feature_learning import data, runs
    images = _fake_omniglot(tmp_path, n_chars=(3, 5))
    pool, n_train = data.omniglot_pool(str(tmp_path), image_size=6)
    assert n_train == 4 * 3 and pool.shape == (4 * 3 + 5, 2, 36)
    pool = pool.reshape(-1, 2, 6, 6)
    for c in range(3):
        for k in range(4):                               # original, then 90, 180, 270 degrees
            np.testing.assert_array_equal(pool[k * 3 + c], np.rot90(images[c], k, axes=(1, 2)))
    np.testing.assert_array_equal(pool[12:], np.stack(images[3:]))   # test classes are not rotated
    assert data.omniglot_pool(str(tmp_path), image_size=6, rotate_train=False)[1] == 3
    # the paper config's sampler draws 5-way tasks from it (test tasks: only the 5 test characters)
    config = default.get_config(f"smoke,digits.family=omniglot,digits.data_dir={tmp_path},digits.image_size=6,"
                                "digits.q_query=1")
    _, sample_test, d = runs._sampler(config.digits, 0)
    xs, ys, xq, yq = sample_test(jax.random.PRNGKey(0), 2)
    assert d == 36 and xs.shape == (2, 5, 36) and xq.shape == (2, 5, 36)
    test_images = pool[12:].reshape(5, 2, 36)
    assert all(any(np.array_equal(x, t) for t in test_images.reshape(-1, 36)) for x in np.asarray(xq).reshape(-1, 36))


def test_text8_max_vocab_zero_keeps_every_word(tmp_path):
    from papers.mup_feature_learning import data
    (tmp_path / "text8").write_text(" a b a c a b d")
    assert data.text8_tokens(str(tmp_path), 0)[1] == ["a", "b", "c", "d"]
    tokens, vocab = data.text8_tokens(str(tmp_path), 2)
    assert vocab == ["a", "b"] and tokens.tolist() == [0, 1, 0, 0, 1]


@pytest.mark.parametrize("override, key, valid", [
    ("digits.family=omniglott", "digits.family", "omniglot"),
    ("synthetic.family=digit", "synthetic.family", "synthetic"),
    ("w2v.corpus=text9", "w2v.corpus", "text8"),
    ("transfer.parametrizations=('mup',)", "transfer.parametrizations", "sp"),
    ("movement.parametrizations=('mup','ntkk')", "movement.parametrizations", "ntk"),
    ("digits.eval_every=30", "digits.steps", "eval_every"),
])
def test_bad_config_values_fail_before_any_work(tmp_path, override, key, valid):
    config = default.get_config(f"smoke,{override}")
    for check in (experiment.validate_config, experiment.check_data):
        with pytest.raises(ConfigError, match=f"config.{key}.*{valid}"):
            check(config)
    with pytest.raises(ConfigError):
        experiment.train_and_evaluate(config, str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()
    for variant in ("smoke", "small", "paper"):
        experiment.validate_config(default.get_config(variant))


def test_non_finite_unit_result_fails_fast(tmp_path, monkeypatch):
    config = default.get_config("smoke")
    shapes = experiment.result_shapes(config)
    nan_unit = lambda _, unit: {k: np.full(s, np.nan) for k, s in shapes[unit].items()}
    monkeypatch.setattr(experiment, "run_unit", nan_unit)
    with pytest.raises(FloatingPointError, match="movement"):
        experiment.train_and_evaluate(config, str(tmp_path / "run"))
    assert _state(config, str(tmp_path / "run"))[0] == 0                  # nothing saved
    experiment.check_finite("transfer", {"loss": np.asarray([np.inf, 1.0])})   # a diverged grid point is a result


def _digits_results(config, acc_mup, acc_ntk, acc_ntk_inf):
    results = jax.tree.map(np.asarray, experiment.initial_state(config).results)
    d = results["digits"]
    d["mup/acc"], d["ntk/acc"] = np.full_like(d["mup/acc"], acc_mup), np.full_like(d["ntk/acc"], acc_ntk)
    d["ntk_inf/acc"] = np.full_like(d["ntk_inf/acc"], acc_ntk_inf)
    return results


def test_claim_3b_needs_mup_above_the_kernel_limit():
    """μP far *below* NTK∞ does not count as 'staying away' in the paper's sense (μP better)."""
    config = default.get_config("smoke")
    passed = lambda *accs: experiment._digits_claims(config, _digits_results(config, *accs))[1][1].passed
    assert passed(0.90, 0.65, 0.65)
    assert not passed(0.40, 0.65, 0.65)
    assert not passed(0.66, 0.65, 0.65)
