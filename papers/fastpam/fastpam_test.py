"""Unit tests of the FastPAM math against brute force, the kmedoids package (Rust) and scipy."""
import itertools

import jax
import jax.numpy as jnp
import kmedoids
import numpy as np
import pytest
from scipy.spatial.distance import cdist

from papers import fastpam
from common import kmedoids as core, kmedoids_swap as swap
from papers.fastpam import sampling


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


N, K = 60, 3   # one matrix shape and k for all tests (and the smoke run): the jit caches are shared


def blobs(n=N, d=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=6.0, size=(5, d))
    return centers[rng.integers(0, 5, n)] + rng.normal(size=(n, d))


def brute_deltas(D, medoids):
    """dTD(m_i, x_c) = TD(medoids with m_i -> x_c) - TD(medoids), by recomputing TD: [n, k]."""
    n, k = D.shape[0], len(medoids)
    td = D[:, medoids].min(1).sum()
    out = np.full((n, k), np.inf)
    for c, i in itertools.product(range(n), range(k)):
        if c in medoids:
            continue
        m = np.array(medoids)
        m[i] = c
        out[c, i] = D[:, m].min(1).sum() - td
    return out


def test_pairwise_dissimilarity_matches_scipy():
    x = blobs()
    for metric, sp in [("euclidean", "euclidean"), ("sqeuclidean", "sqeuclidean"), ("manhattan", "cityblock"),
                       ("cosine", "cosine"), ("chebyshev", "chebyshev")]:
        np.testing.assert_allclose(np.asarray(fastpam.pairwise_dissimilarity(x, metric)), cdist(x, x, sp),
                                   atol=1e-9, err_msg=metric)


def test_swap_deltas_pam_and_fastpam1_equal_brute_force():
    D = cdist(blobs(), blobs())
    medoids = np.array([3, 17, 29])
    caches = core.assign(jnp.asarray(D), jnp.asarray(medoids, jnp.int32))
    ref = brute_deltas(D, medoids)
    mask = np.isfinite(ref)
    for fn in (swap.deltas_pam, swap.deltas_fastpam1):
        got = np.asarray(fn(jnp.asarray(D), caches, 3))
        np.testing.assert_allclose(got[mask], ref[mask], atol=1e-9, err_msg=fn.__name__)
    for c in (0, 5, 59):
        np.testing.assert_allclose(np.asarray(swap.candidate_deltas(jnp.asarray(D[c]), caches, 3)), ref[c], atol=1e-9)


def test_build_matches_kmedoids_pam_build():
    D = cdist(blobs(seed=1), blobs(seed=1))
    for k in (K, 7):
        ref = kmedoids.pam_build(D, k)
        assert np.asarray(core.build(jnp.asarray(D), k)).tolist() == list(ref.medoids)


def test_pam_fastpam1_and_kmedoids_pam_are_identical():
    D = cdist(blobs(seed=2), blobs(seed=2))
    for k in (K,):
        a, b = fastpam.pam(D, k), fastpam.fastpam1(D, k)
        ref = kmedoids.pam(D, np.asarray(core.build(jnp.asarray(D), k), np.int64))
        assert sorted(a.medoids) == sorted(b.medoids) == sorted(ref.medoids)
        for fn in (fastpam.pam, fastpam.fastpam1):         # the scalar-loop kernels: the same swaps
            c = fn(D, k, backend="loops")
            assert c.medoids.tolist() == a.medoids.tolist() and (c.n_iter, c.n_swap) == (a.n_iter, a.n_swap)
        assert a.n_swap == b.n_swap == ref.n_swap and a.n_iter == b.n_iter
        np.testing.assert_allclose([a.loss, b.loss], ref.loss, rtol=1e-12)


def test_fastpam2_reaches_a_swap_local_optimum():
    D = cdist(blobs(seed=3), blobs(seed=3))
    for tau in (0.0, 1.0):
        res = fastpam.fastpam2(D, K, key=jax.random.PRNGKey(1), tau=tau)
        assert res.loss <= core.total_deviation(jnp.asarray(D), core.lab(jnp.asarray(D), K, jax.random.PRNGKey(1))) + 1e-9
        assert np.nanmin(np.where(np.isfinite(d := brute_deltas(D, res.medoids)), d, np.nan)) >= -1e-9


def test_lab_and_random_init_give_distinct_medoids():
    D = jnp.asarray(cdist(blobs(), blobs()))
    assert core.lab_sample_size(120) == 10 + 11 and core.lab_sample_size(N) == 18
    for init in ("lab", "random"):
        m = np.asarray(core.initial_medoids(D, K, init, jax.random.PRNGKey(0)))
        assert len(set(m.tolist())) == K and m.min() >= 0 and m.max() < N


def test_clara_and_clarans_return_consistent_results():
    x = blobs(seed=4)
    D = cdist(x, x)
    start = float(core.total_deviation(jnp.asarray(D), core.random_init(N, K, jax.random.PRNGKey(0))))
    for fn in (fastpam.clara, fastpam.clarans):
        for fast in (False, True):
            r = fn(D, K, fast=fast, key=jax.random.PRNGKey(0))
            assert len(set(r.medoids.tolist())) == K
            np.testing.assert_allclose(r.loss, D[:, r.medoids].min(1).sum(), rtol=1e-12)
            assert r.loss <= start
    assert sampling.clara_sample_size(5, True) == 100 and sampling.clara_sample_size(5, False) == 50


def test_clara_samples_keep_the_best_medoids_and_start_from_their_own_initialisation():
    """Kaufman & Rousseeuw's CLARA (and FastCLARA): every later sample contains the best medoids so far, and
    each sample is clustered from its own BUILD (CLARA) or LAB (FastCLARA) start, not from the kept medoids."""
    x = np.random.default_rng(6).uniform(size=(N, 2))       # no cluster structure: many local optima
    D = jnp.asarray(cdist(x, x))
    key, m = jax.random.PRNGKey(2), sampling.clara_sample_size(K, False)      # 46 of the 60 points
    for fast in (False, True):
        best, best_loss = None, np.inf
        for s, run in enumerate(sampling.clara_runs(D, K, key, n_samples=4, sample_size=m, fast=fast)):
            idx = np.asarray(run.sample)
            assert len(set(idx.tolist())) == m and (best is None or set(best) <= set(idx.tolist()))
            sub = D[idx][:, idx]
            _, k_init = sampling.sample_keys(key, s)
            ref = (swap.fastpam2_loop(sub, core.lab(sub, K, k_init)) if fast
                   else swap.best_swap_loop(sub, core.build(sub, K), method="pam"))
            assert sorted(idx[np.asarray(ref.medoids)]) == sorted(np.asarray(run.medoids).tolist())
            if float(run.loss) < best_loss:
                best, best_loss = np.asarray(run.medoids).tolist(), float(run.loss)
        med, loss, _, _ = sampling.clara(D, K, key, n_samples=4, sample_size=m, fast=fast)
        assert sorted(np.asarray(med).tolist()) == sorted(best) and float(loss) == best_loss


def test_features_and_float32_give_the_same_clustering():
    x = blobs(seed=5)
    r64 = fastpam.fastpam1(x, K, metric="euclidean")
    r32 = fastpam.fastpam1(x.astype(np.float32), K, metric="euclidean", dtype=jnp.float32)
    assert sorted(r64.medoids) == sorted(r32.medoids)
    np.testing.assert_allclose(r32.loss, r64.loss, rtol=1e-5)
    assert fastpam.pam(cdist(x, x), 1).medoids.tolist() == [int(np.argmin(cdist(x, x).sum(1)))]


def test_precomputed_matrix_that_is_not_a_dissimilarity_is_refused():
    D = cdist(blobs(), blobs())
    asym = D.copy()
    asym[0, 1] += 1.0
    for bad, match in ((asym, "not symmetric"), (D + 1.0, "zero diagonal"), (D[:, :10], "square")):
        for backend in ("jax", "loops"):
            with pytest.raises(ValueError, match=match):
                fastpam.fastpam1(bad, K, backend=backend)
