"""Unit tests of the ResDMD math and an end-to-end smoke test (train -> checkpoint -> resume -> eval)."""
import os

import numpy as np
import pytest
import scipy.linalg

from common import claims, testing
from papers.koopman_limits import experiment, resdmd, systems
from papers.koopman_limits.configs import default

CLAIMS = ["1_duffing_edmd_vs_certified", "2_rotation_certified_within_bound",
          "3_adversarial_no_convergence_bounds_valid"]


def _random_data(seed=0, m=400, n=12):
    rng = np.random.default_rng(seed)
    px = rng.normal(size=(m, n)) + 1j * rng.normal(size=(m, n))
    py = rng.normal(size=(m, n)) + 1j * rng.normal(size=(m, n))
    return px, py


def test_residual_matches_gram_formula():
    """res(z) (QR/SVD form) = sqrt of the smallest generalised eigenvalue of (L - zA^H - z*A + |z|^2 G, G)."""
    px, py = _random_data()
    w = np.full(len(px), 1.0 / len(px))
    G, A, L = (px.conj().T * w) @ px, (px.conj().T * w) @ py, (py.conj().T * w) @ py
    d = resdmd.fit(px, py)
    for z in (0.3 + 0.2j, -1.1 + 0.0j, 0.05 - 0.9j):
        H = L - z * A.conj().T - np.conj(z) * A + abs(z) ** 2 * G
        ref = np.sqrt(scipy.linalg.eigh(H, G, eigvals_only=True)[0])
        assert abs(resdmd.residual(d, z) - ref) < 1e-10 * max(1, ref)
        assert abs(resdmd.pseudospectrum(d, np.array([z]))[0] - ref) < 1e-7


def test_edmd_eigenvalues_and_pair_residuals():
    """EDMD eigenvalues equal those of G^{-1} A; pair residuals equal the Gram-matrix formula."""
    px, py = _random_data(1)
    w = np.full(len(px), 1.0 / len(px))
    G, A, L = (px.conj().T * w) @ px, (px.conj().T * w) @ py, (py.conj().T * w) @ py
    d = resdmd.fit(px, py)
    lam, c = resdmd.edmd(d)
    ref = np.linalg.eigvals(np.linalg.solve(G, A))
    assert np.allclose(np.sort_complex(lam), np.sort_complex(ref), atol=1e-9)
    g = d.coef @ c
    for j in range(len(lam)):
        gj, lj = g[:, j], lam[j]
        num = gj.conj() @ (L - lj * A.conj().T - np.conj(lj) * A + abs(lj) ** 2 * G) @ gj
        ref_res = np.sqrt(max(num.real, 0) / (gj.conj() @ G @ gj).real)
        assert abs(resdmd.pair_residuals(d, lam[j:j + 1], c[:, j:j + 1])[0] - ref_res) < 1e-7


def test_pure_rotation_residual_is_distance_to_eigenvalues():
    """Fourier dictionary, uniform grid data of the circle rotation: res(z) = min_k |z - e^{2 pi i k w}| exactly."""
    w, kmax = systems.GOLDEN, 4
    th = np.arange(64) / 64
    psi = resdmd.fourier_dictionary_1d(kmax)
    d = resdmd.fit(psi(th), psi(np.mod(th + w, 1)))
    eig = systems.rotation_eigenvalues(w, kmax)
    for z in (0.7 + 0.1j, 1.2j, -0.4 - 0.5j):
        assert abs(resdmd.residual(d, z) - np.min(np.abs(eig - z))) < 1e-12


def test_local_minima_and_verified_points_of_rotation():
    w, kmax = systems.GOLDEN, 3
    th = np.arange(64) / 64
    psi = resdmd.fourier_dictionary_1d(kmax)
    d = resdmd.fit(psi(th), psi(np.mod(th + w, 1)))
    pts, bounds, _ = resdmd.verified_spectrum(d, resdmd.polar_grid(0.9, 1.1, 3, 64), eps=0.2, refine=True)
    eig = systems.rotation_eigenvalues(w, kmax)
    assert len(pts) == 2 * kmax + 1                      # one certified point per eigenvalue
    assert np.all(bounds < 1e-6)
    assert np.all([np.min(np.abs(eig - p)) < 1e-6 for p in pts])
    res = 1.0 + np.abs(np.arange(3)[:, None] - 1) + np.abs(np.arange(10)[None, :] - 4)   # one basin at (1, 4)
    assert resdmd.grid_local_minima(res).tolist() == [[1, 4]]


def test_adversarial_map_is_conjugate_and_blind_on_grid():
    Q, a, om = 16, 0.25, (systems.GOLDEN, 0.4142135623730951)
    rng = np.random.default_rng(0)
    z = rng.uniform(size=(500, 2))
    lam = np.exp(2j * np.pi * om[1])
    phi = systems.adversarial_eigenfunction(z, Q, a, om)
    phi_next = systems.adversarial_eigenfunction(systems.adversarial_map(z, Q, a, om), Q, a, om)
    assert np.allclose(phi_next, lam * phi, atol=1e-12)      # Koopman eigenfunction of F_Q
    g = systems.grid_points(Q, 6)
    assert np.allclose(systems.adversarial_map(g, Q, a, om), systems.rotation_map(g, om), atol=1e-12)
    assert not np.allclose(systems.adversarial_map(z, Q, a, om), systems.rotation_map(z, om), atol=1e-3)


def test_grid_learner_returns_rotation_pair_with_closed_form_error():
    """On F_Q's grid data EDMD returns the rotation's pair (exp(2 pi i w2), exp(2 pi i y)) with data residual
    ~0; its eigenfunction error and true residual under F_Q equal the closed forms of the construction, and
    res(z) is exactly the distance to the rotation eigenvalues the dictionary holds (so eigenvalue bounds
    cannot fail on this data)."""
    Q, a, om, K = 16, 0.25, (systems.GOLDEN, 0.4142135623730951), 2
    psi = resdmd.fourier_dictionary_2d(K)
    xy = systems.grid_points(Q, 4 * K + 2)
    d = resdmd.fit(psi(xy), psi(systems.adversarial_map(xy, Q, a, om)))
    lam, c = resdmd.edmd(d)
    j = int(np.argmin(np.abs(lam - np.exp(2j * np.pi * om[1]))))
    assert resdmd.pair_residuals(d, lam[j:j + 1], c[:, j:j + 1])[0] < 1e-12
    quad = systems.grid_points(1024, 4) + 0.5 / np.array([1024, 4])        # midpoint rule on the torus
    f = resdmd.eigenfunction_values(d, psi(quad), c[:, j])
    f_next = resdmd.eigenfunction_values(d, psi(systems.adversarial_map(quad, Q, a, om)), c[:, j])
    err = resdmd.eigenfunction_error(f, systems.adversarial_eigenfunction(quad, Q, a, om))
    assert abs(err - systems.rotation_pair_error(Q, a, om[0])) < 1e-9
    true_res = np.linalg.norm(f_next - lam[j] * f) / np.linalg.norm(f)
    assert abs(true_res - systems.rotation_pair_true_residual(Q, a, om)) < 1e-9
    assert systems.rotation_pair_error(Q, a, om[0]) > 0.4 and true_res > 0.3
    eig = systems.torus_eigenvalues(om, K)
    for z in (0.95 + 0.2j, -0.3 + 0.9j, 1.05j):
        assert abs(resdmd.residual(d, z) - np.min(np.abs(eig - z))) < 1e-12


def test_lorenz_snapshots_follow_the_database_system():
    """Consecutive samples of one trajectory; each pair is 10 RK4 steps of Lorenz-63 with the database's
    (sigma, rho, beta) = (10, 28, 2.667), checked against an independent numpy RK4."""
    X, Y = systems.lorenz_snapshots(40, 0.1, 10, 0)
    assert X.shape == Y.shape == (40, 3) and np.array_equal(X[1:], Y[:-1])
    field = lambda x: np.stack([10 * (x[:, 1] - x[:, 0]), x[:, 0] * (28 - x[:, 2]) - x[:, 1],
                                x[:, 0] * x[:, 1] - 2.667 * x[:, 2]], 1)
    assert np.max(np.abs(systems.rk4(field, X, 0.1, 10) - Y)) < 1e-10


def test_rk4_duffing_conserves_energy():
    X, Y = systems.duffing_snapshots(50, 2, 0.3, 0.0, 1.5, 0)
    energy = lambda x: 0.5 * x[:, 1] ** 2 - 0.5 * x[:, 0] ** 2 + 0.25 * x[:, 0] ** 4
    assert np.max(np.abs(energy(Y) - energy(X))) < 1e-6


def test_polynomial_dictionary_is_exact_for_a_linear_map():
    """Monomials of degree <= 3 span a Koopman-invariant subspace of x -> A x: E = 0, every EDMD pair has
    residual ~0 and the eigenvalues are the products mu1^a mu2^b, a + b <= 3, of A's eigenvalues."""
    A = np.array([[0.9, 0.2], [0.0, 0.6]])
    psi = resdmd.polynomial_dictionary(3, scale=2.0)
    x = np.random.default_rng(0).uniform(-2, 2, size=(300, 2))
    assert psi(x).shape == (300, 10)
    d = resdmd.fit(psi(x), psi(x @ A.T))
    lam, c = resdmd.edmd(d)
    assert np.max(np.abs(d.E)) < 1e-10 and np.max(resdmd.pair_residuals(d, lam, c)) < 1e-10
    ref = [0.9 ** a * 0.6 ** b for t in range(4) for a in range(t + 1) for b in [t - a]]
    assert np.allclose(np.sort(lam.real), np.sort(ref), atol=1e-9) and np.max(np.abs(lam.imag)) < 1e-9


def test_padding_refuses_overflow():
    assert np.array_equal(np.isnan(experiment._pad([1.0, 2.0], 4)), [False, False, True, True])
    with pytest.raises(ValueError, match="max_points"):
        experiment._pad(np.arange(5.0), 4)


def _duffing_rbf_data(n_ic=150, n=25, seed=0):
    X, Y = systems.duffing_snapshots(n_ic, 2, 0.3, 0.0, 2.0, seed)
    c = resdmd.kmeans_centers(np.concatenate([X, Y]), n, seed=seed, iters=20)
    psi = resdmd.rbf_dictionary(c, float(np.mean(np.linalg.norm(X - X.mean(0), axis=1))), kind="exponential")
    return X, Y, psi


def test_exponential_rbf_real_fit_and_batched_pseudospectrum():
    """phi(r) = exp(-2r) RBFs; a real dictionary gives real K, E; the batched grid residual equals the SVD form."""
    X, Y, psi = _duffing_rbf_data()
    c = resdmd.kmeans_centers(np.concatenate([X, Y]), 25, seed=0, iters=20)
    x = X[:7]
    ref = np.exp(-2 * np.linalg.norm(x[:, None] - c[None], axis=-1) / float(np.mean(np.linalg.norm(X - X.mean(0), axis=1))))
    assert np.allclose(psi(x), ref, atol=1e-14)
    d = resdmd.fit(psi(X), psi(Y))
    assert not np.iscomplexobj(d.K) and not np.iscomplexobj(d.E)
    assert np.allclose(np.triu(d.E), d.E)
    zs = np.array([0.9, 0.7 + 0.7j, -0.3 + 0.95j, 0.2j, 1.05 + 0.1j, 0.5 - 0.5j, 0.99j])
    ref = np.array([resdmd.residual(d, z) for z in zs])
    batched = resdmd.pseudospectrum(d, zs, chunk=3, method="eigvalsh")     # chunk boundaries exercised
    assert np.allclose(batched, ref, rtol=1e-8, atol=1e-9)
    inverse = resdmd.pseudospectrum(d, zs)                                 # Cholesky + inverse iteration
    assert np.allclose(inverse, ref, rtol=1e-8, atol=1e-9)


def test_smallest_eigenvalue_by_shift_invert_lanczos():
    """Against eigvalsh: separated and clustered smallest eigenvalues, a start vector orthogonal to the new
    smallest eigenvector (a crossing between grid points), and a singular matrix (Cholesky fails ->
    eigvalsh fallback, no vector returned); H(z) assembled by ShiftedGram equals the definition."""
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.standard_normal((60, 60)) + 1j * rng.standard_normal((60, 60)))
    rest = np.linspace(0.5, 4.0, 54)
    H = (Q * np.concatenate([[2e-3, 0.01, 0.02, 0.03, 0.04, 0.05], rest])) @ Q.conj().T
    value, vector = resdmd.smallest_eigenvalue(H)
    assert abs(value - 2e-3) < 1e-13 and abs(abs(np.vdot(vector, Q[:, 0])) - 1) < 1e-8
    cluster = 1e-3 + 1e-9 * np.arange(6)
    value, _ = resdmd.smallest_eigenvalue((Q * np.concatenate([cluster, rest])) @ Q.conj().T)
    assert abs(value - 1e-3) < 1e-13
    crossed = (Q * np.concatenate([[1.0, 1.1, 1.2, 1.3, 5e-4, 1.5], rest])) @ Q.conj().T
    value, _ = resdmd.smallest_eigenvalue(crossed, Q[:, 0])
    assert abs(value - 5e-4) < 1e-13
    singular = (Q * np.concatenate([[0.0, -1e-15], np.linspace(0.5, 4.0, 58)])) @ Q.conj().T
    value, vector = resdmd.smallest_eigenvalue(singular)
    assert vector is None and abs(value - np.linalg.eigvalsh(singular)[0]) < 1e-14
    K = rng.standard_normal((5, 5))
    L = K.T @ K + np.eye(5)
    for KK, LL in ((K, L), (K + 0.3j * K.T, L + 0j)):
        z = 0.3 - 0.7j
        direct = LL - z * KK.conj().T - np.conj(z) * KK + abs(z) ** 2 * np.eye(5)
        assert np.allclose(resdmd.ShiftedGram(LL, KK)(z), direct, atol=1e-14)

def test_heldout_residuals_equal_resdmd_residuals_on_the_training_data():
    X, Y, psi = _duffing_rbf_data(seed=1)
    px, py = psi(X), psi(Y)
    d = resdmd.fit(px, py)
    lam, c = resdmd.edmd(d)
    held = resdmd.heldout_pair_residuals(px, py, d.coef @ c, lam, chunk=70)
    assert np.allclose(held, resdmd.pair_residuals(d, lam, c), rtol=1e-7, atol=1e-9)
    g = d.coef @ c[:, :3]
    direct = np.linalg.norm(py @ g - (px @ g) * lam[None, :3], axis=0) / np.linalg.norm(px @ g, axis=0)
    assert np.allclose(held[:3], direct, rtol=1e-10)


def test_ball_minima_selects_basin_minima():
    """The paper's selection rule on a 1-D profile with two basins (values 0.01 at 0.2 and 0.05 at 0.8)."""
    z = np.arange(11) / 10 + 0j
    dist = np.minimum(np.abs(z - 0.2) + 0.01, np.abs(z - 0.8) + 0.05)
    assert resdmd.ball_minima(z, dist, factor=5.0).tolist() == [2, 8]
    assert resdmd.ball_minima(z, dist, factor=50.0).tolist() == [2]          # one ball covers everything
    assert resdmd.ball_minima(z, dist, factor=5.0, cap=0.01).tolist() == []  # nothing below the cap
    g = resdmd.rect_grid(-0.5, 1.0, 0.0, 1.0, 0.02)
    assert g.shape == (51, 76) and abs(g[0, 0] - (-0.5)) < 1e-15 and abs(g[-1, -1] - (1 + 1j)) < 1e-12


def test_train_resume_and_evaluate(tmp_path):
    config = default.get_config("smoke")
    workdir = str(tmp_path / "run")
    testing.assert_units_run_once(lambda: experiment.train_and_evaluate(config, workdir), workdir, config,
                                  lambda: experiment.initial_state(config), len(experiment.unit_names(config)))
    record = claims.read_eval(workdir)
    assert [c["name"] for c in record["claims"]] == CLAIMS
    assert record["metrics"]["rotation"]["max_dist_minus_bound"] <= 1e-12
    for q in config.adversarial.stages:                # the measured error is the construction's closed form
        am = record["metrics"]["adversarial"][str(q)]
        assert abs(am["err_adv"] - am["err_closed_form"]) < 0.05 and am["bound_minus_dictionary_dist_max_abs"] < 1e-12
    for n in config.duffing.sizes:                     # grid residuals agree with the SVD form at the output
        assert record["metrics"]["duffing"][str(n)]["grid_vs_svd_max_abs"] < 1e-7
    for fig in record["figures"]:
        assert os.path.getsize(os.path.join(workdir, fig)) > 0
