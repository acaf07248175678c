"""Unit tests of FasterPAM against brute force and the kmedoids package (the authors' Rust code)."""
import itertools

import jax
import jax.numpy as jnp
import kmedoids
import numpy as np
import pytest
from scipy.spatial.distance import cdist

from papers import fasterpam
from common import kmedoids as core, kmedoids_loops, kmedoids_swap as baseline
from papers.fasterpam import eager, sampling

N, K = 60, 3   # one matrix shape and k for all tests (and the smoke run): the jit caches are shared


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def dissimilarity(seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=6.0, size=(5, 3))
    x = centers[rng.integers(0, 5, N)] + rng.normal(size=(N, 3))
    return cdist(x, x)


def td(D, medoids):
    return D[:, medoids].min(1).sum()


def test_removal_loss_and_swap_deltas_equal_brute_force():
    D = dissimilarity()
    medoids = np.array([4, 21, 50])
    caches = core.assign(jnp.asarray(D), jnp.asarray(medoids, jnp.int32))
    removal = np.asarray(eager.removal_loss(caches, K))
    for i in range(K):   # removing medoid i without replacement
        np.testing.assert_allclose(removal[i], td(D, np.delete(medoids, i)) - td(D, medoids), atol=1e-9)
    for c in set(range(N)) - set(medoids.tolist()):
        got = np.asarray(eager.swap_deltas(jnp.asarray(D[c]), caches, jnp.asarray(removal)))
        ref = [td(D, np.where(np.arange(K) == i, c, medoids)) - td(D, medoids) for i in range(K)]
        np.testing.assert_allclose(got, ref, atol=1e-9)


def test_incremental_cache_update_equals_recomputation():
    """update_caches (O(1) per unaffected point, gather for the rest, or the full fallback) gives the
    caches of a from-scratch computation; integer distances make ties frequent."""
    rng = np.random.default_rng(5)
    a = rng.integers(1, 6, size=(N, N)).astype(float)
    D = jnp.asarray(np.triu(a, 1) + np.triu(a, 1).T)
    medoids = jnp.asarray([4, 21, 50], jnp.int32)
    caches, second = eager.initial_caches(D, medoids)
    update = jax.jit(eager.update_caches, static_argnames="cap")
    for step in range(12):
        b, c = step % K, int(rng.choice(np.setdiff1d(np.arange(N), np.asarray(medoids))))
        new = medoids.at[b].set(c)
        ref, ref_second = eager.initial_caches(D, new)
        for cap in (4, N):    # cap 4: most swaps take the full fallback; cap N: always the gather path
            got, got_second = update(D, new, caches, second, b, D[c], cap=cap)
            np.testing.assert_array_equal(np.asarray(got.nearest), np.asarray(ref.nearest))
            np.testing.assert_array_equal(np.asarray(got.dn), np.asarray(ref.dn))
            np.testing.assert_array_equal(np.asarray(got.ds), np.asarray(ref.ds))
            np.testing.assert_array_equal(np.asarray(got_second), np.asarray(ref_second))
        caches, second, medoids = ref, ref_second, new


def test_fasterpam_is_identical_to_kmedoids_fasterpam():
    D = dissimilarity(1)
    for seed in range(3):
        start = np.asarray(core.random_init(N, K, jax.random.PRNGKey(seed)), np.int64)
        ours = fasterpam.fasterpam(D, K, init=start)
        ref = kmedoids.fasterpam(D, start.copy(), n_cpu=1)
        assert sorted(ours.medoids) == sorted(ref.medoids)
        assert (ours.n_swap, ours.n_iter) == (ref.n_swap, ref.n_iter)
        np.testing.assert_allclose(ours.loss, ref.loss, rtol=1e-12)
        np.testing.assert_array_equal(ours.labels, np.asarray(ref.labels))


def test_numpy_and_loops_backends_match_jax_and_end_in_a_local_optimum():
    D = dissimilarity(2)
    for init in ("random", "lab", "build"):
        a = fasterpam.fasterpam(D, K, init=init, key=jax.random.PRNGKey(3), shuffle=True)
        for backend in ("numpy", "loops"):
            b = fasterpam.fasterpam(D, K, init=init, key=jax.random.PRNGKey(3), shuffle=True, backend=backend)
            assert a.medoids.tolist() == b.medoids.tolist(), backend
            assert (a.n_swap, a.n_iter) == (b.n_swap, b.n_iter), backend
        best = min(td(D, np.where(np.arange(K) == i, c, a.medoids))
                   for c, i in itertools.product(range(N), range(K)))
        assert best >= a.loss - 1e-9         # no single swap improves: a local optimum of PAM's SWAP


def test_loop_fasterpam_equals_the_numpy_and_jax_loops_step_for_step():
    D = dissimilarity(4)
    order = np.random.default_rng(0).permutation(N)
    for k in (2, K):
        start = np.asarray(core.lab(jnp.asarray(D), k, jax.random.PRNGKey(k)))
        jx = eager.fasterpam_loop(jnp.asarray(D), jnp.asarray(start), jnp.asarray(order, jnp.int32), 100)
        med, t, n_swap = kmedoids_loops.fasterpam_swap(D, start, order)
        np_med, np_t, np_swap = eager.fasterpam_numpy(D, start, order)
        assert med.tolist() == np_med.tolist() == np.asarray(jx.medoids).tolist()
        assert (t, n_swap) == (np_t, np_swap) == (int(jx.t), int(jx.n_swap))


def test_baseline_pam_equals_fastpam1_and_kmedoids_pam():
    D = dissimilarity(3)
    a, b = fasterpam.pam(D, K), fasterpam.pam(D, K, method="fastpam1")
    for method in ("pam", "fastpam1"):
        c = fasterpam.pam(D, K, method=method, backend="loops")
        assert c.medoids.tolist() == a.medoids.tolist() and (c.n_iter, c.n_swap) == (a.n_iter, a.n_swap)
    assert np.asarray(core.build(jnp.asarray(D), K)).tolist() == list(kmedoids.pam_build(D, K).medoids)
    ref = kmedoids.pam(D, np.asarray(core.build(jnp.asarray(D), K), np.int64))
    assert sorted(a.medoids) == sorted(b.medoids) == sorted(ref.medoids)
    np.testing.assert_allclose([a.loss, b.loss], ref.loss, rtol=1e-12)
    deltas = baseline.deltas_pam(jnp.asarray(D), core.assign(jnp.asarray(D), jnp.asarray(a.medoids)), K)
    np.testing.assert_allclose(np.asarray(deltas),
                               np.asarray(baseline.deltas_fastpam1(jnp.asarray(D), core.assign(
                                   jnp.asarray(D), jnp.asarray(a.medoids)), K)), atol=1e-9)


def test_fastclara_samples_keep_the_best_medoids_and_start_from_lab():
    """Every later FastCLARA sample contains the best medoids so far (Kaufman & Rousseeuw's CLARA), and each
    sample runs FasterPAM from its own LAB start, not from the kept medoids."""
    x = np.random.default_rng(6).uniform(size=(N, 2))       # no cluster structure: many local optima
    D = jnp.asarray(cdist(x, x))
    key, m = jax.random.PRNGKey(2), 40
    best, best_loss = None, np.inf
    for s, (idx, med, loss, _) in enumerate(sampling.fastclara_samples(D, K, key, n_samples=4, sample_size=m)):
        idx = np.asarray(idx)
        assert len(set(idx.tolist())) == m and (best is None or set(best) <= set(idx.tolist()))
        _, k_run = jax.random.split(jax.random.fold_in(key, s))
        k_lab, k_order = jax.random.split(k_run)
        sub = D[idx][:, idx]
        ref = eager.fasterpam_loop(sub, core.lab(sub, K, k_lab), jax.random.permutation(k_order, m).astype(jnp.int32),
                                   100)
        assert sorted(idx[np.asarray(ref.medoids)]) == sorted(np.asarray(med).tolist())
        if float(loss) < best_loss:
            best, best_loss = np.asarray(med).tolist(), float(loss)
    med, loss, _, _ = sampling.fastclara(D, K, key, n_samples=4, sample_size=m)
    assert sorted(np.asarray(med).tolist()) == sorted(best) and loss == best_loss


def test_fastclara_fastclarans_and_float32_features():
    D = dissimilarity(4)
    rand = td(D, np.asarray(core.random_init(N, K, jax.random.PRNGKey(0))))
    for fn in (fasterpam.fastclara, fasterpam.fastclarans):
        r = fn(D, K, key=jax.random.PRNGKey(0))
        assert len(set(r.medoids.tolist())) == K and r.loss <= rand
        np.testing.assert_allclose(r.loss, td(D, r.medoids), rtol=1e-12)
    rng = np.random.default_rng(5)
    x = (rng.normal(scale=6.0, size=(5, 3))[rng.integers(0, 5, N)] + rng.normal(size=(N, 3))).astype(np.float32)
    r32 = fasterpam.fasterpam(x, K, metric="euclidean", dtype=jnp.float32)
    r64 = fasterpam.fasterpam(x.astype(np.float64), K, metric="euclidean")
    np.testing.assert_allclose(r32.loss, r64.loss, rtol=1e-3)
    assert fasterpam.fasterpam(D, 1).medoids.tolist() == [int(np.argmin(D.sum(1)))]
