"""Tests of the modern Hopfield network's math (Eqs. (2), (3)) and the classical baseline."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import logsumexp, softmax

from papers.hopfield_layers import hopfield as hf
from papers.hopfield_layers import memory


@pytest.fixture
def x64():
    """float64 for the closed-form comparisons (only inside the test)."""
    with jax.enable_x64(True):
        yield


def _patterns(seed=0, n=7, d=5):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(3, d))


def test_energy_matches_closed_form(x64):
    x, xi = _patterns()
    beta = 0.7
    want = (-logsumexp(beta * xi @ x.T, axis=-1) / beta + 0.5 * np.sum(xi ** 2, -1)
            + np.log(len(x)) / beta + 0.5 * np.max(np.linalg.norm(x, axis=1)) ** 2)
    np.testing.assert_allclose(hf.energy(jnp.asarray(xi), jnp.asarray(x), beta), want, rtol=1e-12)
    assert np.all(want >= 0)  # the constants make the energy non-negative (Lemma A1)


def test_update_is_softmax_average_and_gradient_of_lse(x64):
    x, xi = _patterns(1)
    beta = 1.3
    want = softmax(beta * xi @ x.T, axis=-1) @ x
    np.testing.assert_allclose(hf.hopfield_update(jnp.asarray(xi), jnp.asarray(x), beta), want, rtol=1e-12)
    # CCCP: xi_new = grad_xi lse(beta, X^T xi), the gradient of the concave part of Eq. (2).
    grad = jax.vmap(jax.grad(lambda s: hf.lse(beta, jnp.asarray(x) @ s)))(jnp.asarray(xi))
    np.testing.assert_allclose(grad, want, rtol=1e-10)


def test_energy_never_increases_and_reaches_a_fixed_point(x64):
    x, xi = _patterns(2, n=20, d=8)
    trajectory = jax.jit(hf.update_trajectory, static_argnums=3)
    for beta in (0.05, 1.0, 8.0):
        final, e = trajectory(jnp.asarray(xi), jnp.asarray(x), beta, 60)
        assert np.all(np.diff(np.asarray(e), axis=0) <= 1e-12 * (1 + np.abs(np.asarray(e[:-1]))))
        np.testing.assert_allclose(hf.hopfield_update(final, jnp.asarray(x), beta), final, atol=1e-7)


def test_small_beta_gives_the_global_average_and_large_beta_one_pattern(x64):
    x, xi = _patterns(3, n=10, d=16)
    np.testing.assert_allclose(hf.hopfield_update(jnp.asarray(xi), jnp.asarray(x), 1e-9), np.broadcast_to(
        x.mean(0), xi.shape), atol=1e-7)
    noisy = x[4] + 0.05 * np.random.default_rng(0).normal(size=16)
    np.testing.assert_allclose(hf.hopfield_update(jnp.asarray(noisy), jnp.asarray(x), 50.0), x[4], atol=1e-6)


def test_effective_patterns_counts_a_uniform_subset(x64):
    p = jnp.asarray([[0.25, 0.25, 0.25, 0.25, 0.0, 0.0], [1.0, 0, 0, 0, 0, 0]])
    np.testing.assert_allclose(hf.effective_patterns(p), [4.0, 1.0], rtol=1e-12)
    regime, _ = memory.classify_fixed_point(jnp.stack([jnp.full(6, 1 / 6), p[0], p[1]]), 6)
    assert regime.tolist() == [0, 1, 2]


def test_mask_entries_zeroes_the_requested_fraction():
    x = hf.random_binary_patterns(jax.random.PRNGKey(0), (50, 64))
    q = hf.mask_entries(jax.random.PRNGKey(1), x, 0.3)
    assert np.all(np.sum(np.asarray(q) == 0, axis=1) == round(0.3 * 64))
    assert np.all((np.asarray(q) == 0) | (np.asarray(q) == np.asarray(x)))


def test_classical_net_hebbian_weights_and_retrieval():
    x = hf.random_binary_patterns(jax.random.PRNGKey(2), (3, 64))
    w = hf.hebbian_weights(x)
    want = sum(np.outer(p, p) for p in np.asarray(x))
    np.fill_diagonal(want, 0)
    np.testing.assert_allclose(w, want)
    q = hf.mask_entries(jax.random.PRNGKey(3), x, 0.3)
    out = hf.classical_retrieve(q, w)
    # 3 random patterns in d=64 are well below capacity: all retrieved, and they are fixed points.
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(jnp.sign(out @ w), out)


def test_classical_net_runs_to_a_fixed_point():
    # N = 16 = 0.25 d: above capacity, where 5 sweeps leave some states short of a fixed point.
    patterns, targets, queries = memory.retrieval_queries(jax.random.PRNGKey(0), 16, 64, 160, 0.3)
    w = jnp.repeat(jax.vmap(hf.hebbian_weights)(patterns), targets.shape[1], axis=0)
    queries = queries.reshape(-1, 64)
    def fixed_points(max_sweeps):
        final = jax.jit(jax.vmap(lambda q, wq: hf.classical_retrieve(q, wq, max_sweeps)))(queries, w)
        return np.asarray(hf.is_classical_fixed_point(final, w))

    assert fixed_points(100).all()
    assert not fixed_points(5).all()          # a fixed number of sweeps stops short on some queries


def test_modern_beats_classical_on_the_same_queries():
    modern, classical = memory.retrieval_at(jax.random.PRNGKey(0), 32, 64, 64, 0.3, jnp.asarray([8.0, 1e-3]))
    assert float(modern[0]) == 1.0          # beta = 8: all 64 masked queries retrieved in one update
    assert float(modern[1]) == 0.0          # beta -> 0: the global average, nothing retrieved
    assert float(classical) < 0.5           # N = 32 = 0.5 d is far above the Hebbian capacity
