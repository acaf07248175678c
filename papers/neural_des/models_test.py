"""Models and data: CDE solvers agree, clipping makes maps 1-Lipschitz, OU sampler matches closed form.

XLA compilation is most of these tests' time: each test runs one compiled program where it can, and the
spirals are drawn at the smoke config's sizes (64 series of 12 points, half dropped), whose programs the
end-to-end test compiles too.
"""
import os

import jax
import jax.numpy as jnp
import numpy as np

from common import sharding
from papers.neural_des import classify, data, models, rand
from papers.neural_des import reversible as rv


def _smoke_spirals():
    """(values [64, 6, 3], labels [64]): the smoke config's claim-3 data shapes."""
    return data.irregular_spirals(jax.random.PRNGKey(0), 64, 0.5, length=12)


def test_ncde_scan_solver_equals_diffrax_solver():
    """The scan solver equals diffrax's Heun on the same control, for the logits of 32 series: the scan
    program is the one the end-to-end test evaluates with (smoke sizes, rectilinear control)."""
    values, _ = _smoke_spirals()
    v = np.asarray(values)[:32]
    p = sharding.replicate(models.init_ncde(jax.random.PRNGKey(1), 3, 4, 8, 1, 1), sharding.make_mesh())
    kw = dict(kind="ncde", interpolation="rectilinear", steps_per_knot=1)
    a = np.asarray(classify.batch_logits(p, v, solver="scan", **kw))
    b = np.asarray(classify.batch_logits(p, v, solver="diffrax", **kw))
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    lin = lambda layer, x: x @ np.asarray(layer["w"]) + np.asarray(layer["b"])
    at_z0 = lin(p["out"][0], lin(p["init"][0], v[:, 0]))                    # the readout of z(0)
    assert float(np.max(np.abs(a - at_z0))) > 1e-3                            # the state moved


def test_controls_pass_through_observations():
    """Rectilinear control: time moves first, then the values; Hermite control: through every observation."""
    values, _ = _smoke_spirals()
    v = np.asarray(values)[0]
    end = []

    @jax.jit
    def evaluate(v):
        rect, s1 = models.control_path(v, "rectilinear")
        herm, h1 = models.control_path(v, "hermite")
        end.append((s1, h1))
        return rect.evaluate(2.0), rect.evaluate(1.0), jax.vmap(herm.evaluate)(jnp.arange(v.shape[0], dtype=v.dtype))
    at_knot, mid, herm = evaluate(v)
    assert end == [(2 * (v.shape[0] - 1), v.shape[0] - 1)]
    np.testing.assert_allclose(at_knot, v[1], rtol=1e-6, atol=1e-7)          # knot 2 = observation 1
    np.testing.assert_allclose(mid, np.concatenate([v[1, :1], v[0, 1:]]), rtol=1e-6, atol=1e-7)   # time moved, values not yet
    np.testing.assert_allclose(herm, v, rtol=1e-6, atol=1e-6)


def test_clip_lipschitz_bounds_infinity_operator_norm():
    rng = np.random.default_rng(0)
    layers = [{"w": rng.uniform(-5, 5, (n_in, n_out)).astype(np.float32), "b": np.zeros(n_out, np.float32)}
              for n_in, n_out in ((5, 7), (7, 3))]
    clipped = jax.jit(models.clip_lipschitz)(layers)
    for l, c in zip(layers, clipped):
        # ||x W||_inf <= ||x||_inf * max_j sum_i |W_ij| <= 1 after clipping to 1/fan_in.
        assert float(np.max(np.sum(np.abs(c["w"]), axis=0))) <= 1.0 + 1e-6
        np.testing.assert_array_equal(np.asarray(c["w"]), np.clip(l["w"], -1 / l["w"].shape[0], 1 / l["w"].shape[0]))


def test_drop_points_keeps_order_and_fraction():
    k1, k2 = rand.split(jax.random.PRNGKey(0))
    times, xy, labels = data.spirals(k1, 64, 12, 0.05)
    values = np.asarray(data.drop_points(k2, times, xy, 0.5))
    full = np.concatenate([np.asarray(times)[..., None], np.asarray(xy)], axis=-1)
    assert values.shape == (64, 6, 3)
    assert bool(np.all(np.diff(values[..., 0], axis=1) > 0))
    for v, f in zip(values, full):          # every kept row is one of the series' own observations
        assert all(np.any(np.all(f == row, axis=1)) for row in v)
    assert set(np.unique(np.asarray(labels)).tolist()) == {0, 1}
    np.testing.assert_array_equal(values, np.asarray(_smoke_spirals()[0]))   # irregular_spirals = the two steps


def test_ou_sampler_matches_closed_form_marginals():
    # 20480 paths as 160 draws of the smoke config's size (128 paths, 6 times; its compiled program), on [0, 15].
    key = jax.random.PRNGKey(0)
    draws = [data.time_dependent_ou(jax.random.fold_in(key, i), 128, 6, 15.0, 0.02, 0.1, 0.4) for i in range(160)]
    ts = np.asarray(draws[0][0])
    ys = np.concatenate([np.asarray(d[1])[..., 0] for d in draws])
    m, v = jax.jit(data.ou_marginals)(ts, 0.0, 1.0 / 3.0, 0.02, 0.1, 0.4)
    np.testing.assert_allclose(ys.mean(0), m, atol=0.03)
    np.testing.assert_allclose(ys.var(0), v, rtol=0.06)


def test_character_trajectories_loader_raises_clear_error(tmp_path):
    try:
        data.load_character_trajectories(str(tmp_path), 0.3)
    except data.DataNotFoundError as e:
        assert "CharacterTrajectories" in str(e) and "--config.cde.data_dir" in str(e)
    else:
        raise AssertionError("expected DataNotFoundError")


def test_speech_commands_loader_reads_a_generated_directory(tmp_path):
    """Two one-second clips per command word and one short clip (skipped): 20 series of 161 MFCC frames."""
    from scipy.io import wavfile
    rng = np.random.default_rng(0)
    for word in data.SPEECH_CLASSES:
        os.makedirs(tmp_path / "SpeechCommands" / word)
        for j in range(2):
            wavfile.write(tmp_path / "SpeechCommands" / word / f"{j}.wav", 16000,
                          rng.integers(-3000, 3000, 16000).astype(np.int16))
    wavfile.write(tmp_path / "SpeechCommands" / "yes" / "short.wav", 16000, np.zeros(8000, np.int16))
    data.require_dataset("speech_commands", str(tmp_path))
    split = data.load_speech_commands(str(tmp_path))
    assert [len(split[k][0]) for k in ("train", "val", "test")] == [14, 3, 3]
    values = np.concatenate([split[k][0] for k in ("train", "val", "test")])
    labels = np.concatenate([split[k][1] for k in ("train", "val", "test")])
    assert values.shape == (20, 161, 21) and np.all(np.isfinite(values))
    np.testing.assert_array_equal(values[0, :, 0], np.linspace(0.0, 1.0, 161, dtype=np.float32))   # time channel
    np.testing.assert_array_equal(np.bincount(labels), np.full(10, 2))


def test_speech_commands_loader_names_its_config_key(tmp_path):
    try:
        data.load_speech_commands(str(tmp_path))
    except data.DataNotFoundError as e:
        assert "Speech Commands" in str(e) and "--config.cde.data_dir" in str(e)
    else:
        raise AssertionError("expected DataNotFoundError")


def test_accuracy_counts_every_series_in_fixed_size_chunks():
    """10 series in chunks of 4: every series counts (the last chunk is padded), one batch shape."""
    values = np.arange(10, dtype=np.float32).reshape(10, 1, 1)
    labels = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0], np.int32)      # the last two are misclassified
    shapes = []

    def logits(params, v):
        shapes.append(v.shape)
        return np.ones((v.shape[0], 1), np.float32)                   # predicts class 1 everywhere
    assert classify.accuracy(logits, None, values, labels, 4) == 0.8
    assert shapes == [(4, 1, 1)] * 3
    assert classify.accuracy(logits, None, values, labels, 64) == 0.8   # chunk larger than the set


@jax.jit
def _augmented_ode_both(p, z0, ts):
    a = models.neural_ode_solve(p, z0, ts, augment=2, solver="reversible_heun")
    vf = rv.ode_field(lambda q, t, z: models.neural_ode_field(t, z, q))
    b = rv.reversible_heun(vf, p, models.augment_state(z0, 2), ts, rv.ode_increments(ts))
    return a, b


def test_augmented_neural_ode_diffrax_equals_our_reversible_heun():
    """neural_ode_solve (diffrax.ReversibleHeun on the augmented state) equals our reversible Heun solve
    (float64, nonlinear field: the two implementations of the solver agree to round-off)."""
    with jax.enable_x64(True):
        p = models.init_neural_ode(jax.random.PRNGKey(0), 2, 8, 1, augment=2, dtype=jnp.float64)
        a, b = _augmented_ode_both(p, np.array([0.3, -0.7]), np.linspace(0.0, 1.0, 9))
        assert a.shape == (9, 4) and a.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
        assert float(np.max(np.abs(np.asarray(a)[-1, :2] - [0.3, -0.7]))) > 1e-2     # the state moved


def test_block_random_draws_equal_jax_random():
    """rand.split/uniform/normal (blocks cut on the host) give the numbers of the direct jax.random calls."""
    key = jax.random.PRNGKey(7)
    direct = jax.jit(lambda k: (jax.random.split(k, 3), jax.random.uniform(k, (5, 7), jnp.float32, -0.3, 0.2),
                                jax.random.normal(k, (9,), jnp.float32)))(key)
    ours = rand.split(key, 3), rand.uniform(key, (5, 7), jnp.float32, -0.3, 0.2), rand.normal(key, (9,))
    for a, b in zip(direct, ours):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
