"""The scalar-loop SWAP kernels against brute force, the JAX kernels, numpy and the kmedoids package."""
import itertools

import jax
import jax.numpy as jnp
import kmedoids
import numpy as np
import pytest
from scipy.spatial.distance import cdist

from common import kmedoids as core, kmedoids_loops as loops, kmedoids_swap as swap


def points(n=60, seed=0, integer=False):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=6.0, size=(5, 3))
    x = centers[rng.integers(0, 5, n)] + rng.normal(size=(n, 3))
    return np.round(x) if integer else x


def total_deviation(D, medoids):
    return D[:, medoids].min(1).sum()


def brute_best_swap(D, medoids):
    """(delta, slot, candidate) of the best swap, first minimum in candidate-major order."""
    best = (0.0, -1, -1)
    td = total_deviation(D, medoids)
    for c, i in itertools.product(range(D.shape[0]), range(len(medoids))):
        if c in medoids:
            continue
        m = np.array(medoids)
        m[i] = c
        d = total_deviation(D, m) - td
        if d < best[0] - 1e-9:
            best = (d, i, c)
    return best


@pytest.mark.parametrize("fn", [loops.pam_swap, loops.fastpam1_swap])
def test_one_iteration_performs_the_brute_force_best_swap(fn):
    D = cdist(points(), points())
    start = np.array([3, 17, 29, 41])
    delta, slot, cand = brute_best_swap(D, start)
    medoids, n_iter, n_swap = fn(D, start, max_iter=1)
    expect = start.copy()
    expect[slot] = cand
    assert (n_iter, n_swap) == (1, 1) and medoids.tolist() == expect.tolist()
    np.testing.assert_allclose(total_deviation(D, medoids) - total_deviation(D, start), delta, atol=1e-9)
    assert start.tolist() == [3, 17, 29, 41]          # the caller's array is not modified


@pytest.mark.parametrize("integer", [False, True])   # integer coordinates: many tied distances
def test_pam_and_fastpam1_loops_equal_the_jax_loop_and_kmedoids_pam(integer):
    x = points(seed=2, integer=integer)
    D = cdist(x, x, "cityblock")
    for k in (1, 3, 6):
        with jax.enable_x64(True):
            start = np.asarray(core.build(jnp.asarray(D), k))
            ref = swap.best_swap_loop(jnp.asarray(D), jnp.asarray(start), method="pam", max_iter=100)
        rust = kmedoids.pam(D, start.astype(np.int64), max_iter=100)
        for fn in (loops.pam_swap, loops.fastpam1_swap):
            medoids, n_iter, n_swap = fn(D, start)
            assert medoids.tolist() == np.asarray(ref.medoids).tolist(), (fn.__name__, k)
            assert (n_iter, n_swap) == (int(ref.n_iter), int(ref.n_swap)), (fn.__name__, k)
            assert sorted(medoids.tolist()) == sorted(np.asarray(rust.medoids).tolist())
            np.testing.assert_allclose(total_deviation(D, medoids), rust.loss, rtol=1e-12)


def test_fasterpam_loop_equals_kmedoids_and_ends_in_a_swap_local_optimum():
    x = points(n=80, seed=3)
    D = cdist(x, x)
    for k in (2, 5):
        start = np.random.default_rng(k).choice(80, k, replace=False)
        medoids, t, n_swap = loops.fasterpam_swap(D, start)
        rust = kmedoids.fasterpam(D, start.astype(np.int64), max_iter=100, n_cpu=1)
        assert sorted(medoids.tolist()) == sorted(np.asarray(rust.medoids).tolist())
        assert n_swap == rust.n_swap and (1 if n_swap == 0 else t // 80 + 1) == rust.n_iter
        assert brute_best_swap(D, medoids)[1] == -1        # no single swap improves TD
    shuffled = loops.fasterpam_swap(D, [0, 1, 2], order=np.random.default_rng(0).permutation(80))[0]
    assert brute_best_swap(D, shuffled)[1] == -1


def test_float32_matrix_gives_the_float64_clustering():
    x = points(seed=4)
    D = cdist(x, x)
    for fn in (loops.pam_swap, loops.fastpam1_swap, loops.fasterpam_swap):
        a = fn(D, [0, 1, 2])[0]
        b = fn(D.astype(np.float32), [0, 1, 2])[0]
        assert sorted(a.tolist()) == sorted(b.tolist()), fn.__name__


@pytest.mark.parametrize("diss, medoids, match", [
    (np.zeros((4, 5)), [0, 1], "square"),
    (np.zeros((5, 5)), [0, 0], "distinct"),
    (np.zeros((5, 5)), [0, 5], "distinct"),
    (np.triu(np.ones((5, 5)), 1), [0, 1], "not symmetric"),
    (np.ones((5, 5)), [0, 1], "zero diagonal"),
    (np.full((5, 5), np.nan), [0, 1], "NaN"),
])
def test_bad_inputs_are_clear_errors(diss, medoids, match):
    with pytest.raises(ValueError, match=match):
        loops.pam_swap(diss, medoids)


def test_unknown_method_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown method"):
        loops.best_swap(np.zeros((3, 3)), [0], method="fastpam2")


def test_check_false_skips_only_the_matrix_check():
    D = cdist(points(), points())
    for fn in (loops.pam_swap, loops.fastpam1_swap, loops.fasterpam_swap):
        checked, unchecked = fn(D, [0, 1, 2]), fn(D, [0, 1, 2], check=False)
        np.testing.assert_array_equal(checked[0], unchecked[0])
        assert checked[1:] == unchecked[1:]
        asym = D.copy()
        asym[0, 1] += 1.0
        with pytest.raises(ValueError, match="not symmetric"):
            fn(asym, [0, 1, 2])
        fn(asym, [0, 1, 2], check=False)                 # the O(n^2) check is skipped ...
        with pytest.raises(ValueError, match="distinct"):
            fn(D, [0, 0, 2], check=False)                # ... the medoids are still checked
