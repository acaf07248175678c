"""Tests of the few-shot task samplers, FO-MAML on a linear model and the Word2Vec pieces."""
import jax
import jax.numpy as jnp
import numpy as np

from papers.mup_feature_learning import fewshot as fs
from papers.mup_feature_learning import word2vec as w2v


def test_class_pool_tasks_have_one_class_per_label():
    pool = np.arange(10)[:, None, None] * 100.0 + np.arange(7)[None, :, None] + np.zeros((10, 7, 3))
    sample = jax.jit(lambda key, pool: fs.class_pool_tasks(key, pool, jnp.arange(5, 10), 5, 1, 2, 6))
    xs, ys, xq, yq = jax.tree.map(np.asarray, sample(jax.random.PRNGKey(0), pool))
    assert xs.shape == (6, 5, 3) and xq.shape == (6, 10, 3)
    cls_s, cls_q = np.asarray(xs[..., 0]) // 100, np.asarray(xq[..., 0]) // 100
    for t in range(6):
        assert sorted(cls_s[t]) == [5, 6, 7, 8, 9]                       # 5 distinct test classes
        for lab in range(5):
            assert set(cls_q[t][np.asarray(yq[t]) == lab]) == {cls_s[t][np.asarray(ys[t]) == lab][0]}
        # support and query examples of a class are distinct
        assert not set(np.asarray(xs[t, :, 0]).tolist()) & set(np.asarray(xq[t, :, 0]).tolist())


def test_synthetic_tasks_lie_near_the_shared_subspace():
    P = fs.synthetic_projection(0, 40, 4)
    np.testing.assert_allclose(P.T @ P, np.eye(4), atol=1e-5)
    sample = jax.jit(lambda key, P: fs.synthetic_tasks(key, P, 5, 1, 3, 50, 0.1, 0.0))
    xs, ys, xq, yq = jax.tree.map(np.asarray, sample(jax.random.PRNGKey(1), P))
    x = xq.reshape(-1, 40)
    np.testing.assert_allclose(x - (x @ P) @ P.T, 0, atol=1e-5)          # no noise: inside span(P)


def test_fomaml_on_linear_model_is_gd_on_query_loss_at_adapted_point():
    """One FO-MAML step by hand: M' = M - a g_s, M <- M - b g_q(M')."""

    @jax.jit
    def both(key, P):
        xs, ys, xq, yq = fs.synthetic_tasks(key, P, 3, 2, 2, 1, 0.5, 0.3)
        M = 0.1 * jax.random.normal(key, (6, 3))

        def grad(M, x, y):
            p = jax.nn.softmax(x @ M)
            return x.T @ (p - jax.nn.one_hot(y, 3)) / x.shape[0]

        Ma = M - 0.7 * 2.0 * grad(M, xs[0], ys[0])
        expected = M - 0.4 * 2.0 * grad(Ma, xq[0], yq[0])
        new, _ = fs.fomaml_step({"M": M}, (xs, ys, xq, yq), fs.linear_model_apply, {"M": 2.0}, 0.7, 1, 0.4)
        return new["M"], expected, M

    new, expected, M = both(jax.random.PRNGKey(2), fs.synthetic_projection(1, 6, 2))
    np.testing.assert_allclose(new, expected, rtol=1e-5, atol=1e-6)
    assert float(np.max(np.abs(new - M))) > 1e-3          # the step moved M


def test_sgns_loss_matches_numpy():
    logits = np.random.default_rng(3).standard_normal((4, 9)).astype(np.float32)
    ctx, negs = jnp.array([1, 2, 3, 4]), jnp.array([[0, 5], [6, 7], [8, 0], [1, 2]])
    lg = np.asarray(logits, np.float64)
    sig = lambda z: 1 / (1 + np.exp(-z))
    ref = np.mean([-np.log(sig(lg[i, ctx[i]])) - np.sum(np.log(sig(-lg[i, negs[i]]))) for i in range(4)])
    np.testing.assert_allclose(jax.jit(w2v.sgns_loss)(logits, ctx, negs), ref, rtol=1e-5)


def test_analogy_accuracy_on_additive_and_random_embeddings():
    sents, vocab, q = w2v.generated_corpus(0, 50)
    V = len(vocab)
    rng = np.random.default_rng(0)
    role, gender = rng.standard_normal((8, 16)), rng.standard_normal((2, 16))
    E = 0.01 * rng.standard_normal((V, 16))
    for i in range(8):
        for g in range(2):
            E[vocab.index(f"role{i}_{'mf'[g]}")] = role[i] + gender[g]
    acc = jax.jit(w2v.analogy_accuracy)
    assert float(acc(jnp.asarray(E @ E.T), jnp.asarray(q))) == 1.0
    assert float(acc(np.eye(V, dtype=np.float64), jnp.asarray(q))) == 0.0
    pairs = w2v.skipgram_pairs(sents, 1)
    assert pairs.shape == (50 * 4 * 2, 2)
