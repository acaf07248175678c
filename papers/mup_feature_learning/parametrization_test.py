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


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_all_parametrizations_coincide_at_base_width(optimizer):
    x = jax.random.normal(jax.random.PRNGKey(1), (7, 12))
    outs, scales = [], []
    for p in pz.PARAMETRIZATIONS:
        model = pz.AbcMLP(width=32, depth=2, out_dim=3, parametrization=p, base_width=32)
        params = pz.init_mlp(model, jax.random.PRNGKey(0), 12)
        outs.append(model.apply({"params": params}, x))
        scales.append(pz.lr_scale_tree(params, p, 32, 32, optimizer))
        for s in pz.layer_scales(p, 3, 32, 32, optimizer):
            assert s == {"multiplier": 1.0, "init_std": 1.0, "lr": 1.0}
    for o in outs[1:]:
        np.testing.assert_allclose(o, outs[0], rtol=1e-6)
    for s in scales[1:]:
        jax.tree.map(np.testing.assert_array_equal, s, scales[0])


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
    stds = {}
    for p in ("mup", "sp"):
        model = pz.AbcMLP(width=n, depth=2, out_dim=8, parametrization=p, base_width=n0)
        params = pz.init_mlp(model, jax.random.PRNGKey(3), d)
        W = pz.effective_weights(params, p, n, n0)
        stds[p] = [float(jnp.std(W[f"w{l}"])) for l in range(3)]
    np.testing.assert_allclose(stds["mup"], [d ** -0.5, n ** -0.5, n0 ** 0.5 / n], rtol=0.05)
    np.testing.assert_allclose(stds["sp"], [d ** -0.5, n ** -0.5, n ** -0.5], rtol=0.05)


def test_mean_field_equals_mup_under_sgd():
    """MF is μP moved by the abc symmetry (a+t, b-t, c-2t): identical functions along SGD training."""
    n, n0, d = 256, 32, 10
    x = jax.random.normal(jax.random.PRNGKey(5), (20, d))
    y = jnp.arange(20) % 4
    traj = {}
    for p in ("mup", "mf"):
        model = pz.AbcMLP(width=n, depth=2, out_dim=4, parametrization=p, base_width=n0)
        params = pz.init_mlp(model, jax.random.PRNGKey(0), d)
        # same effective weights at init: rescale the raw draws of MF to μP's (the laws are equal)
        if p == "mf":
            W_mup = pz.effective_weights(traj["mup_init"], "mup", n, n0)
            scales = pz.layer_scales("mf", 3, n, n0)
            params = {k: W_mup[k] / scales[int(k[1:])]["multiplier"] for k in params}
        else:
            traj["mup_init"] = params
        lrs = pz.lr_scale_tree(params, p, n, n0, "sgd")
        loss = lambda q, model=model: pz.softmax_xent(model.apply({"params": q}, x), y)
        train = jax.jit(lambda q, loss=loss, lrs=lrs, model=model: model.apply({"params": jax.lax.fori_loop(
            0, 5, lambda i, q: pz.sgd_update(q, jax.grad(loss)(q), 0.3, lrs), q)}, x))
        traj[p] = train(params)
    np.testing.assert_allclose(traj["mf"], traj["mup"], rtol=2e-4, atol=2e-5)
    # and SP with the same effective init does not move the same way
    assert float(jnp.max(jnp.abs(traj["mup"]))) > 0


def test_adam_update_uses_per_layer_rates():
    params = {"w0": jnp.ones((2, 3)), "w1": jnp.ones((3, 1))}
    grads = {"w0": jnp.full((2, 3), 2.0), "w1": jnp.full((3, 1), -1.0)}
    new, _ = pz.adam_update(params, grads, pz.adam_init(params), 0.1, {"w0": 1.0, "w1": 0.5})
    # first Adam step moves every coordinate by lr * sign(g) (bias-corrected, eps small)
    np.testing.assert_allclose(new["w0"], 1 - 0.1, rtol=1e-5)
    np.testing.assert_allclose(new["w1"], 1 + 0.05, rtol=1e-5)
