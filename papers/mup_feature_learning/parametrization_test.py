"""Tests of the abc-parametrisations: tables, coincidence at the base width, init scales, symmetry."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from papers.mup_feature_learning import parametrization as pz


def test_mup_and_ntk_exponents_are_the_papers():
    # μP (Def. of maximal update parametrisation): a = (-1/2, 0, 1/2), b = 1/2, c = 0 for SGD
    assert pz.abc_exponents("mup", 3) == [(-0.5, 0.5, 0.0), (0.0, 0.5, 0.0), (0.5, 0.5, 0.0)]
    # NTK: a_1 = 0, a_l = 1/2 for l >= 2, b = 0, c = 0
    assert pz.abc_exponents("ntk", 3) == [(0.0, 0.0, 0.0), (0.5, 0.0, 0.0), (0.5, 0.0, 0.0)]
    with pytest.raises(ValueError):
        pz.abc_exponents("mup", 1)


_BASE_MODELS = [pz.AbcMLP(width=32, depth=2, out_dim=3, parametrization=p, base_width=32) for p in pz.PARAMETRIZATIONS]


@jax.jit
def _base_width_outputs(key, x):     # module level: compiled once for both optimizers
    return [m.apply({"params": pz.init_mlp(m, key, 12)}, x) for m in _BASE_MODELS]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_all_parametrizations_coincide_at_base_width(optimizer):
    outs = _base_width_outputs(jax.random.PRNGKey(0), np.random.default_rng(1).standard_normal((7, 12)).astype(np.float32))
    shapes = {"w0": np.zeros((12, 32), np.float32), "w1": np.zeros((32, 32), np.float32),
              "w2": np.zeros((32, 3), np.float32)}
    scales = [pz.lr_scale_tree(shapes, p, 32, 32, optimizer) for p in pz.PARAMETRIZATIONS]
    for p in pz.PARAMETRIZATIONS:
        for s in pz.layer_scales(p, 3, 32, 32, optimizer):
            assert s == {"multiplier": 1.0, "init_std": 1.0, "lr": 1.0}
    for o in outs[1:]:
        np.testing.assert_allclose(o, outs[0], rtol=1e-6)
    for s in scales[1:]:
        jax.tree.map(np.testing.assert_array_equal, s, scales[0])


def test_traced_abc_factors_reproduce_abcmlp():
    """init_abc_mlp + abc_apply with the factors as arrays (one program for all parametrisations) = AbcMLP."""
    n, n0, d = 256, 32, 12
    models = [pz.AbcMLP(width=n, depth=2, out_dim=3, parametrization=p, base_width=n0, out_scale=0.5)
              for p in pz.PARAMETRIZATIONS]

    @jax.jit
    def both(key, x):
        ref = [m.apply({"params": pz.init_mlp(m, key, d)}, x, return_features=True) for m in models]
        mine = []
        for p in pz.PARAMETRIZATIONS:
            abc = pz.abc_arrays(p, 3, n, n0)
            params = pz.init_abc_mlp(key, d, n, 2, 3, n0, abc["init_std"], out_scale=0.5)
            mine.append(pz.abc_apply(params, x, abc["multiplier"], "relu", return_features=True))
        return ref, mine

    ref, mine = both(jax.random.PRNGKey(4), np.random.default_rng(2).standard_normal((5, d)).astype(np.float32))
    for (out_r, feats_r), (out_m, feats_m) in zip(ref, mine):
        np.testing.assert_allclose(out_m, out_r, rtol=1e-5, atol=1e-6)
        for a, b in zip(feats_m, feats_r):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert float(np.max(np.abs(ref[0][0] - ref[3][0]))) > 1e-3      # SP and μP differ at this width
    lr = pz.abc_arrays("mup", 3, n, n0, "adam")["lr"]
    np.testing.assert_allclose(lr, [l["lr"] for l in pz.layer_scales("mup", 3, n, n0, "adam")])


def test_parametrizations_differ_away_from_base_width():
    s_mup = pz.layer_scales("mup", 3, 256, 32)
    s_ntk = pz.layer_scales("ntk", 3, 256, 32)
    assert s_mup[0]["multiplier"] == pytest.approx(8 ** 0.5) and s_ntk[0]["multiplier"] == 1.0
    assert s_mup[2]["multiplier"] == pytest.approx(8 ** -0.5) and s_mup[2]["init_std"] == pytest.approx(8 ** -0.5)
    assert pz.layer_scales("mup", 3, 256, 32, "adam")[1]["lr"] == pytest.approx(1 / 8)
    assert pz.layer_scales("sp", 3, 256, 32, "adam")[1]["lr"] == 1.0


def test_init_std_and_effective_weight_scales():
    """Effective W^l entries: μP input O(1), hidden 1/sqrt(n), readout 1/n; SP readout 1/sqrt(n)."""
    n, n0, d = 1024, 64, 16
    models = {p: pz.AbcMLP(width=n, depth=2, out_dim=8, parametrization=p, base_width=n0) for p in ("mup", "sp")}

    @jax.jit
    def effective_stds(key):
        out = {}
        for p, model in models.items():
            W = pz.effective_weights(pz.init_mlp(model, key, d), p, n, n0)
            out[p] = [jnp.std(W[f"w{l}"]) for l in range(3)]
        return out

    stds = effective_stds(jax.random.PRNGKey(3))
    np.testing.assert_allclose(stds["mup"], [d ** -0.5, n ** -0.5, n0 ** 0.5 / n], rtol=0.05)
    np.testing.assert_allclose(stds["sp"], [d ** -0.5, n ** -0.5, n ** -0.5], rtol=0.05)


def test_mean_field_equals_mup_under_sgd():
    """MF is μP moved by the abc symmetry (a+t, b-t, c-2t): identical functions along SGD training."""
    n, n0, d = 256, 32, 10
    models = {p: pz.AbcMLP(width=n, depth=2, out_dim=4, parametrization=p, base_width=n0) for p in ("mup", "mf")}

    @jax.jit
    def trajectories(key, x):
        y = jnp.arange(20) % 4
        traj = {}
        mup_init = pz.init_mlp(models["mup"], key, d)
        W_mup = pz.effective_weights(mup_init, "mup", n, n0)
        mf_scales = pz.layer_scales("mf", 3, n, n0)
        # same effective weights at init: rescale μP's draws to MF's raw weights (the laws are equal)
        inits = {"mup": mup_init, "mf": {k: W_mup[k] / mf_scales[int(k[1:])]["multiplier"] for k in mup_init}}
        for p, model in models.items():
            lrs = pz.lr_scale_tree(inits[p], p, n, n0, "sgd")
            loss = lambda q, model=model: pz.softmax_xent(model.apply({"params": q}, x), y)
            final = jax.lax.fori_loop(0, 5, lambda i, q, loss=loss, lrs=lrs: pz.sgd_update(q, jax.grad(loss)(q), 0.3, lrs),
                                      inits[p])
            traj[p] = (model.apply({"params": inits[p]}, x), model.apply({"params": final}, x))
        return traj

    traj = trajectories(jax.random.PRNGKey(0), np.random.default_rng(5).standard_normal((20, d)).astype(np.float32))
    np.testing.assert_allclose(traj["mf"][1], traj["mup"][1], rtol=2e-4, atol=2e-5)
    # and training did move the function
    assert float(jnp.max(jnp.abs(traj["mup"][1] - traj["mup"][0]))) > 1e-3


def test_adam_update_uses_per_layer_rates():
    params = {"w0": np.ones((2, 3), np.float32), "w1": np.ones((3, 1), np.float32)}
    grads = {"w0": np.full((2, 3), 2.0, np.float32), "w1": np.full((3, 1), -1.0, np.float32)}
    new, _ = jax.jit(lambda p, g: pz.adam_update(p, g, pz.adam_init(p), 0.1, {"w0": 1.0, "w1": 0.5}))(params, grads)
    # first Adam step moves every coordinate by lr * sign(g) (bias-corrected, eps small)
    np.testing.assert_allclose(new["w0"], 1 - 0.1, rtol=1e-5)
    np.testing.assert_allclose(new["w1"], 1 + 0.05, rtol=1e-5)
