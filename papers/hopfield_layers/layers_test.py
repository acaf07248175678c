"""Tests of the Flax Hopfield layers against flax attention and the plain update rule, and of MIL pieces."""
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from sklearn.metrics import roc_auc_score

from papers.hopfield_layers import Hopfield, HopfieldLayer, HopfieldPooling, hopfield_update, mil

KEY = jax.random.PRNGKey(0)


def _normal(seed, *shape):
    return jnp.asarray(np.random.default_rng(seed).normal(size=shape), jnp.float32)


def test_hopfield_equals_flax_attention_with_mask():
    r, y, v = _normal(0, 2, 3, 10), _normal(1, 2, 6, 10), _normal(2, 2, 6, 10)
    mask = jnp.asarray(np.random.default_rng(3).random((2, 6)) < 0.7).at[:, 0].set(True)
    kw = dict(num_heads=2, qkv_features=8, out_features=5)

    @jax.jit
    def outputs():
        params = Hopfield(**kw).init(KEY, r, y, v)
        params = jax.tree.map(lambda p: p + 0.1, params)       # non-zero biases
        return (Hopfield(**kw).apply(params, r, y, v, mask=mask),
                nn.MultiHeadDotProductAttention(**kw).apply(params, r, y, v, mask=mask[:, None, None, :]),
                Hopfield(beta=1.0, **kw).apply(params, r, y, v, mask=mask))

    ours, theirs, other = outputs()
    assert float(jnp.max(jnp.abs(ours - theirs))) < 1e-5
    assert float(jnp.max(jnp.abs(other - theirs))) > 1e-3     # another beta is no longer attention


def test_hopfield_without_projections_is_the_update_rule():
    xi, x = _normal(4, 3, 7), _normal(5, 9, 7)
    for steps in (1, 3):
        layer = Hopfield(use_projections=False, beta=2.0, update_steps=steps)
        out, want = jax.jit(lambda a, b: (layer.apply({}, a, b), hopfield_update(a, b, 2.0, steps)))(xi, x)
        np.testing.assert_allclose(out, want, atol=1e-5)


def test_hopfield_pooling_is_permutation_and_padding_invariant():
    h = _normal(6, 2, 5, 8)
    pool = HopfieldPooling(num_queries=2, num_heads=2, qkv_features=8, out_features=4)
    padded = jnp.concatenate([h, 100.0 * jnp.ones((2, 3, 8))], axis=1)
    mask = jnp.arange(8)[None].repeat(2, 0) < 5

    @jax.jit
    def outputs():
        params = pool.init(KEY, h)
        return pool.apply(params, h), pool.apply(params, h[:, ::-1]), pool.apply(params, padded, mask)

    out, reversed_out, padded_out = outputs()
    assert out.shape == (2, 8)
    np.testing.assert_allclose(reversed_out, out, atol=1e-5)
    np.testing.assert_allclose(padded_out, out, atol=1e-5)


def test_hopfield_layer_static_and_learned_patterns():
    state = _normal(7, 2, 3, 6)
    stored = _normal(8, 10, 6)
    static = HopfieldLayer(stored_patterns=stored, num_heads=1, qkv_features=6)
    p_static = jax.eval_shape(static.init, KEY, state)
    assert "stored_patterns" not in p_static["params"]
    learned = HopfieldLayer(num_patterns=10, separate_values=True)
    p_learned = jax.eval_shape(learned.init, KEY, state)["params"]
    assert p_learned["stored_patterns"].shape == (10, 6) and p_learned["pattern_projections"].shape == (10, 6)
    # With static patterns and no projections this is Eq. (3) on the stored patterns.
    bare = HopfieldLayer(stored_patterns=stored, beta=0.5, use_projections=False)
    bare_out, want = jax.jit(lambda s: (bare.apply({}, s), hopfield_update(s, stored, 0.5)))(state)
    np.testing.assert_allclose(bare_out, want, atol=1e-5)


def test_mil_poolings_ignore_padding():
    h = _normal(9, 3, 4, 8)
    padded = jnp.concatenate([h, jnp.full((3, 2, 8), 9.0)], axis=1)
    mask_full, mask_pad = jnp.ones((3, 4), bool), jnp.arange(6)[None].repeat(3, 0) < 4
    np.testing.assert_allclose(mil.masked_mean(padded, mask_pad), h.mean(1), atol=1e-6)
    np.testing.assert_allclose(mil.masked_max(padded, mask_pad), h.max(1), atol=1e-6)
    attn = mil.AttentionMILPooling(attention_dim=5)

    @jax.jit
    def outputs():
        params = attn.init(KEY, h, mask_full)
        return attn.apply(params, padded, mask_pad), attn.apply(params, h, mask_full)

    np.testing.assert_allclose(*outputs(), atol=1e-5)


def test_roc_auc_matches_sklearn():
    rng = np.random.default_rng(0)
    y = rng.random(200) < 0.4
    s = np.round(rng.normal(size=200) + y, 1)          # with ties
    assert abs(mil.roc_auc(s, y) - roc_auc_score(y, s)) < 1e-12


def test_digit_bags_labels_follow_the_target_digit():
    (x, mask, y), (xt, mt, yt) = mil.digit_bags(0, 50, 40, 9, 10.0, 2.0, 2, 16, 0.5)
    assert x.shape == (50, 16, 64) and xt.shape == (40, 16, 64)
    assert 2 <= mask.sum(1).min() and mask.sum(1).max() <= 16
    assert np.all(x[~mask] == 0)
    assert 0 < y.mean() < 1 and 0 < yt.mean() < 1
