"""Tests of the anti-diagonal batched SOR against the common wavefront solver and a dense numpy SOR."""
import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

from common import linear_solvers as ls
from papers.learning_to_relax import fast_sor, heat, instances


# one compile for every call with N = 6 systems on the 4 x 4 grid (tol and maxiter are traced)
_jit_solve = jax.jit(lambda b, c, w, x0, tol, maxiter: fast_sor.sor_solve_batch(b, c, w, x0, tol=tol, maxiter=maxiter))


def _solve(b, c, w, tol, maxiter, x0=None):
    return _jit_solve(b, c, w, np.zeros_like(b) if x0 is None else x0, tol, maxiter)


def _laplacian(m):
    with jax.enable_x64(True):
        return ls.to_dense(ls.laplacian_2d(m, 0.0, jnp.float64))


def _dense_sor(A, b, omega, tol, maxiter, x0=None):
    """Textbook natural-order SOR x <- x + (D/omega + L)^-1 (b - A x) from x0 (default 0) until
    ||b - A x|| < tol ||b - A x0|| (official sor.m)."""
    M = np.tril(A, -1) + np.diag(np.diag(A)) / omega
    x, k = (np.zeros_like(b) if x0 is None else x0.copy()), 0
    r0 = np.linalg.norm(b - A @ x)
    while k < maxiter and np.linalg.norm(b - A @ x) >= tol * r0:
        x, k = x + np.linalg.solve(M, b - A @ x), k + 1
    return x, k


def test_diagonal_layout_round_trip():
    m = 5
    x = np.arange(3 * m * m, dtype=np.float64).reshape(3, m * m)
    diags = fast_sor.to_diagonals(jnp.asarray(x), m)
    assert [d.shape for d in diags] == [(hi - lo + 1, 3) for lo, hi in fast_sor.diagonal_ranges(m)]
    assert sum(d.shape[0] for d in diags) == m * m
    np.testing.assert_array_equal(np.asarray(diags[1])[:, 0], [1, m])          # (0, 1), (1, 0)
    np.testing.assert_array_equal(np.asarray(fast_sor.from_diagonals(diags, m)), x)


def test_batched_sor_matches_dense_and_wavefront_solvers():
    m, tol = 4, 1e-8
    rng = np.random.default_rng(0)
    b = instances.sample_rhs(rng, 6, m * m)
    c = np.array([-0.15, 0.0, 0.3, 0.45, -0.1, 0.2])
    w = np.array([1.0, 1.3, 1.6, 1.95, 1.8, 0.7])
    with jax.enable_x64(True):
        x, it, rel = (np.asarray(a) for a in _solve(b, c, w, tol, 500))
        ref = jax.vmap(lambda b, c, w: ls.sor_solve_laplacian_2d(b, c, w, tol=tol, maxiter=500))(b, c, w)
        ref_it, ref_x = np.asarray(ref.iterations), np.asarray(ref.x)
    L = _laplacian(m)
    np.testing.assert_array_equal(it, ref_it)
    np.testing.assert_allclose(x, ref_x, rtol=1e-12, atol=1e-14)
    for t in range(len(c)):
        A = L + c[t] * np.eye(m * m)
        x_np, k = _dense_sor(A, b[t], w[t], tol, 500)
        assert it[t] == k
        np.testing.assert_allclose(x[t], x_np, rtol=1e-9, atol=1e-12)
        assert rel[t] < tol and abs(rel[t] - np.linalg.norm(b[t] - A @ x_np) / np.linalg.norm(b[t])) < 1e-12


def test_maxiter_and_zero_rhs():
    m = 4
    b = np.ones((6, m * m))
    b[0] = 0.0
    with jax.enable_x64(True):
        _, it, rel = (np.asarray(a) for a in _solve(b, np.full(6, -0.15), np.ones(6), 1e-8, 7))
    assert list(it) == [0] + [7] * 5 and rel[0] == 0.0 and np.all(rel[1:] > 1e-8)


def test_sorted_padded_batches_return_each_systems_count():
    """Sorted batches of 6 (the last one padded) give every system its own count (dense numpy SOR)."""
    m, tol = 4, 1e-8
    rng = np.random.default_rng(1)
    T = 17
    b = instances.sample_rhs(rng, T, m * m)
    c = instances.sample_shifts(rng, T, 0.5, 1.5)
    w = rng.uniform(1.0, 1.95, T)
    stats = {}
    counts = fast_sor.sor_iterations(b, c, w, tol=tol, maxiter=2000, batch=6, stats=stats)
    L = _laplacian(m)
    single = [_dense_sor(L + c[t] * np.eye(m * m), b[t], w[t], tol, 2000)[1] for t in range(T)]
    np.testing.assert_array_equal(counts, single)
    assert 0 < stats["lane_efficiency"] <= 1
    pred = fast_sor.predicted_iterations(m, c, w, tol)
    assert np.corrcoef(np.argsort(np.argsort(pred)), np.argsort(np.argsort(counts)))[0, 1] > 0.8


def test_warm_started_sor_on_heat_systems_equals_dense_sor_on_the_unscaled_systems():
    """The heat sequence's scaled systems (delsq + c I, b / s) from x0 = u_k count like sor.m on
    A = I - (kappa dt / 2) Lap_h, b of Heat2D.m (scale invariance of SOR; warm start r_0 = b - A x0)."""
    nx, T, stoptime, tol = 5, 6, 5.0, 1e-8
    seq = heat.simulate(nx, T, stoptime)
    w = np.array([1.0, 1.2, 1.4, 1.6, 1.8, 1.95])
    with jax.enable_x64(True):
        x, it, _ = (np.asarray(a) for a in _solve(seq.rhs, seq.shifts, w, tol, 2000, seq.x0))
    delsq = _laplacian(nx - 1)
    for k in range(T):
        A = np.eye(len(delsq)) + seq.scales[k] * delsq          # = I - (kappa dt / 2) Lap_h
        x_np, count = _dense_sor(A, seq.scales[k] * seq.rhs[k], w[k], tol, 2000, seq.x0[k])
        assert it[k] == count and count > 0
        np.testing.assert_allclose(x[k], x_np, rtol=1e-9, atol=1e-12)
    cold = np.asarray(_solve(seq.rhs, seq.shifts, w, tol, 2000)[1])
    assert np.all(cold >= it) and np.any(cold > it)            # the warm start is used


_TWO_DEVICES = """
import json, jax, numpy as np
from common import sharding
from papers.learning_to_relax import fast_sor, instances
assert jax.device_count() == 2
rng = np.random.default_rng(3)
b = instances.sample_rhs(rng, 11, 16); c = rng.uniform(-0.15, 0.45, 11); w = rng.uniform(1.0, 1.9, 11)
x0 = rng.standard_normal((11, 16))
one, two = sharding.make_mesh(devices=jax.devices()[:1]), sharding.make_mesh()
a = fast_sor.sor_iterations(b, c, w, x0, batch=5, mesh=one)
s = fast_sor.sor_iterations(b, c, w, x0, batch=5, mesh=two)
print("COUNTS", json.dumps([a.tolist(), s.tolist()]))
"""


def test_sharded_batches_equal_single_device_counts():
    """On 2 simulated devices (batches padded to a multiple of 2, fed per process, gathered back) the SOR
    counts equal the single-device ones (instances.iteration_counts' SSOR-PCG path uses the same
    fast_sor.batch_counts)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=2".strip()
    env = {**os.environ, "XLA_FLAGS": flags, "JAX_PLATFORMS": "cpu", "PYTHONPATH": root}
    out = subprocess.run([sys.executable, "-c", _TWO_DEVICES], env=env, cwd=root, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    pairs = [json.loads(ln.split(" ", 1)[1]) for ln in out.stdout.splitlines() if ln.startswith("COUNTS")]
    assert len(pairs) == 1
    for single, sharded in pairs:
        assert single == sharded and min(single) > 0
