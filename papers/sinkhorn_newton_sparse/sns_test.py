"""Tests of the math (closed forms, autodiff, numpy/POT references) and an end-to-end smoke run.

Shapes and solver settings follow the smoke config (n = 49) so the XLA compilations are shared.
"""
from __future__ import annotations

import itertools
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common.config import ConfigError
from papers.sinkhorn_newton_sparse import experiment, lyapunov, newton, problems, solver, sparsity_bound
from papers.sinkhorn_newton_sparse.configs import default

SMOKE = default.get_config("smoke")
N = SMOKE.random.n


def smoke_kwargs(method="sns"):
    return experiment.solver_kwargs(SMOKE, N, method=method)


def small_problem(n=5, m=6, seed=0):
    rng = np.random.default_rng(seed)
    C = rng.uniform(size=(n, m))
    r = rng.uniform(0.5, 1.5, n); r /= r.sum()
    c = rng.uniform(0.5, 1.5, m); c /= c.sum()
    return C, r, c, rng.normal(size=n) * 0.1, rng.normal(size=m) * 0.1


def test_gradient_and_hessian_match_autodiff():
    C, r, c, x, y = small_problem()
    eta = 3.0
    with jax.enable_x64(True):
        f = lambda z: lyapunov.potential(C, r, c, z[:5], z[5:], eta)
        z = jnp.concatenate([x, y])
        gx, gy = jax.jit(lyapunov.gradient)(C, r, c, x, y, eta)
        np.testing.assert_allclose(np.concatenate([gx, gy]), jax.jit(jax.grad(f))(z), rtol=1e-12, atol=1e-14)
        H = jax.jit(lyapunov.hessian)(C, x, y, eta)
        np.testing.assert_allclose(H, jax.jit(jax.hessian(f))(z), rtol=1e-11, atol=1e-13)
        # Negative semidefinite with null direction (1, -1) (Sec. 4).
        assert np.linalg.eigvalsh(np.asarray(H)).max() < 1e-12
        np.testing.assert_allclose(H @ jnp.concatenate([jnp.ones(5), -jnp.ones(6)]), 0.0, atol=1e-12)


def test_sinkhorn_half_steps_are_exact_block_maximisers():
    C, r, c, x, y = small_problem()
    eta = 50.0
    with jax.enable_x64(True):
        @jax.jit
        def run(C, r, c, x, y):
            etaC = eta * C
            x1 = lyapunov.sinkhorn_x_update(jnp.log(r), lyapunov.row_lse(etaC, y, eta), eta)
            x2, y2 = lyapunov.sinkhorn_step(etaC, jnp.log(r), jnp.log(c), x, y, eta)
            return (lyapunov.gradient(C, r, c, x1, y, eta)[0], lyapunov.gradient(C, r, c, x2, y2, eta)[1],
                    lyapunov.potential(C, r, c, x2, y2, eta) - lyapunov.potential(C, r, c, x, y, eta))

        gx, gy, increase = run(C, r, c, x, y)
        np.testing.assert_allclose(gx, 0.0, atol=1e-14)
        np.testing.assert_allclose(gy, 0.0, atol=1e-14)
        assert increase >= 0.0   # alternating maximisation never decreases f


def test_sparsify_keeps_the_k_largest_entries():
    rng = np.random.default_rng(1)
    logP = rng.normal(size=(30, 40)) * 5
    with jax.enable_x64(True):
        for k in (17, 1200):
            block = jax.jit(newton.sparsify, static_argnums=1)(jnp.asarray(logP), k)
            ref = np.sort(np.argsort(logP.ravel())[-k:])
            got = np.sort(np.asarray(block.rows) * 40 + np.asarray(block.cols))
            np.testing.assert_array_equal(got, ref)
            np.testing.assert_allclose(np.sort(block.vals), np.sort(np.exp(logP.ravel()[ref])), rtol=1e-14)
    assert newton.num_kept(500, 500, 2 / 500) == 1500   # 8n Hessian nonzeros: 2n diagonal + 2 * 3n


def test_sparse_matvec_and_cg_match_dense_linear_algebra():
    rng = np.random.default_rng(2)
    n, m, k = 12, 9, 30
    P = rng.uniform(size=(n, m)) ** 4
    with jax.enable_x64(True):
        block = jax.jit(newton.sparsify, static_argnums=1)(jnp.log(jnp.asarray(P)), k)
        S = np.zeros((n, m)); S[np.asarray(block.rows), np.asarray(block.cols)] = np.asarray(block.vals)
        rs, cs = P.sum(1), P.sum(0)
        M = np.block([[np.diag(rs), S], [S.T, np.diag(cs)]])
        vx, vy = rng.normal(size=n), rng.normal(size=m)
        got = np.concatenate(newton.sparse_matvec(block, jnp.asarray(rs), jnp.asarray(cs), vx, vy))
        np.testing.assert_allclose(got, M @ np.concatenate([vx, vy]), rtol=1e-13)
        b = rng.normal(size=n + m)
        for jacobi in (False, True):
            pre = (lambda ux, uy: (ux / rs, uy / cs)) if jacobi else None
            cg = jax.jit(lambda bx, by: newton.conjugate_gradient(
                lambda a, b_: newton.sparse_matvec(block, jnp.asarray(rs), jnp.asarray(cs), a, b_),
                bx, by, tol=1e-13, max_iter=500, precond=pre))
            dx, dy, it = cg(jnp.asarray(b[:n]), jnp.asarray(b[n:]))
            np.testing.assert_allclose(np.concatenate([dx, dy]), np.linalg.solve(M, b), rtol=1e-8)
            assert 0 < int(it) <= 500


def test_potential_increase_is_exact():
    C, r, c, x, y = small_problem()
    eta = 20.0
    rng = np.random.default_rng(3)
    dx, dy = rng.normal(size=5) * 0.05, rng.normal(size=6) * 0.05
    with jax.enable_x64(True):
        @jax.jit
        def run(alpha):
            P = lyapunov.plan(C, x, y, eta)
            gx, gy = lyapunov.gradient(C, r, c, x, y, eta)
            inc, rs, _ = newton.potential_increase(P, jnp.asarray(dx), jnp.asarray(dy), gx @ dx + gy @ dy, alpha, eta)
            ref = lyapunov.potential(C, r, c, x + alpha * dx, y + alpha * dy, eta) - lyapunov.potential(C, r, c, x, y, eta)
            return inc, ref, rs, lyapunov.plan(C, x + alpha * dx, y + alpha * dy, eta).sum(1)

        for alpha in (1.0, 0.25, 1e-4):
            inc, ref, rs, rs_ref = run(jnp.float64(alpha))
            np.testing.assert_allclose(inc, ref, rtol=1e-9, atol=1e-16)
            np.testing.assert_allclose(rs, rs_ref, rtol=1e-12)
        np.testing.assert_allclose(newton.phi(jnp.asarray([1e-3, 0.5, -2.0])),
                                   np.expm1([1e-3, 0.5, -2.0]) - [1e-3, 0.5, -2.0], rtol=1e-12)


def test_sns_matches_pot_and_beats_sinkhorn_in_iterations():
    import ot
    C, a, b = problems.random_assignment(5, N)
    eta = 100.0
    sns = solver.solve(C, a, b, eta=eta, **smoke_kwargs())
    sk = solver.solve(C, a, b, eta=eta, **smoke_kwargs("sinkhorn"))
    assert sns.converged and sk.converged and sns.error <= 1e-10
    assert sns.newton_iterations > 0 and sns.sinkhorn_iterations == SMOKE.solver.n_sinkhorn
    assert sns.iterations < sk.iterations
    P_pot = ot.sinkhorn(a, b, C, reg=1 / eta, method="sinkhorn_log", stopThr=1e-13, numItermax=100_000)
    assert np.abs(sns.plan - P_pot).max() < 1e-8
    assert np.abs(sk.plan - P_pot).max() < 1e-8
    # The history is the l1 marginal error of each iterate and ends at the reported error.
    assert len(sns.history) == sns.iterations + 1 and sns.history[-1] <= 1e-10


def test_entropic_cost_approaches_exact_ot_within_bound():
    import ot
    C, a, b = problems.random_assignment(6, N)
    exact = ot.emd2(a, b, C)
    gaps = []
    for eta in (10.0, 100.0):
        res = solver.solve(C, a, b, eta=eta, **smoke_kwargs())
        gaps.append((C * res.plan).sum() - exact)
        assert -1e-9 <= gaps[-1] <= np.log(N * N) / eta
    assert gaps[1] < gaps[0]


def test_fallback_to_sinkhorn_when_newton_stalls():
    C, a, b = problems.random_assignment(7, N)
    # With zero CG iterations the Newton direction is 0: no ascent step exists, every Newton step stalls.
    res = solver.solve(C, a, b, eta=100.0, **{**smoke_kwargs(), "cg_max_iter": 0})
    n1, fb = SMOKE.solver.n_sinkhorn, SMOKE.solver.fallback_steps
    assert res.fallbacks == res.newton_iterations > 0
    assert res.sinkhorn_iterations >= n1 + fb * (res.fallbacks - 1)
    # The fallback Sinkhorn steps keep reducing the marginal error.
    assert res.history[-1] < 1e-3 * res.history[n1]


def test_batched_solve_equals_single_solves():
    probs = [problems.random_assignment(20 + i, N) for i in range(2)]
    costs, a, b = (np.stack([p[i] for p in probs]) for i in range(3))
    kw = smoke_kwargs("sinkhorn")
    batched = solver.solve_batch(costs, a, b, eta=100.0, **kw)
    for i, res in enumerate(batched):
        single = solver.solve(costs[i], a[i], b[i], eta=100.0, **kw)
        assert res.iterations == single.iterations
        np.testing.assert_allclose(res.plan, single.plan, atol=1e-15)


def test_config_cg_cap_lets_newton_converge():
    # At eta = 1000 the solver's default cap 2(n+m) cuts every CG solve short and Newton crawls; the config's
    # cap (passed by solver_kwargs) lets the same solve reach the tolerance.
    C, a, b = problems.random_assignment(5, N)
    kw = smoke_kwargs()
    assert kw["cg_max_iter"] == SMOKE.solver.cg_max_iter > 4 * N
    capped = solver.solve(C, a, b, eta=1000.0, **{**kw, "cg_max_iter": 4 * N})
    full = solver.solve(C, a, b, eta=1000.0, **kw)
    assert not capped.converged and capped.iterations == SMOKE.solver.max_iter_sns
    assert full.converged and full.iterations < 100


def test_vertex_optimality_gap_matches_brute_force():
    rng = np.random.default_rng(4)
    for _ in range(3):
        C = rng.uniform(size=(6, 6))
        costs = sorted(C[np.arange(6), list(p)].sum() for p in itertools.permutations(range(6)))
        np.testing.assert_allclose(sparsity_bound.vertex_optimality_gap(C), (costs[1] - costs[0]) / 6, rtol=1e-12)
    assert sparsity_bound.vertex_optimality_gap(np.ones((4, 4))) == 0.0    # every permutation optimal
    assert sparsity_bound.min_eta(4, 0.0) == np.inf
    np.testing.assert_allclose(sparsity_bound.first_term(10, [0.0, 2.0], 0.5), [600.0, 600.0 / np.e])


def _sweep_unit(converged):
    etas = np.array([10.0, 100.0])
    return dict(etas=etas, gaps=np.array([0.1, 0.01]), bounds=np.log(N * N) / etas, converged=np.array(converged),
                errors=np.array([1e-11, 5e-9]), iterations=np.array([30, 400]), tol=1e-10, n=N)


def test_claim3_fails_on_an_unconverged_solve():
    pot = dict(plan_max_abs_diff=1e-15, sns_converged=True, sns_error=1e-14, n=N, eta=30.0)
    assert experiment._claim_pot_and_emd(pot, _sweep_unit([True, True])).passed
    claim = experiment._claim_pot_and_emd(pot, _sweep_unit([True, False]))
    assert not claim.passed and "NOT converged at eta=100 (error 5.0e-09 after 400 it)" in claim.ours
    assert not experiment._claim_pot_and_emd({**pot, "sns_converged": False}, _sweep_unit([True, True])).passed


def test_claim4_is_judged_at_the_given_eta_not_the_largest():
    unit = dict(etas=np.array([300.0, 1200.0, 4800.0]), n_sinkhorn=2, k=10, n=5,
                traces=np.array([[0.5, 0.4, 0.3], [0.1, 0.05, 0.04], [0.001, 0.002, 0.003]]),
                eps_inf=np.array([0.3, 0.05, 0.001]), limit_converged=np.array([True, True, True]),
                theorem1_first_term=np.array([1e6, 1e6, 1e6]), vertex_gap=3e-7, theorem1_min_eta=4e7)
    assert experiment._claim_sparsity(unit, 4800.0).passed          # top mass 0.998 after N1 = 2 steps
    claim = experiment._claim_sparsity(unit, 1200.0)                # top mass 0.95
    assert not claim.passed and "0.9500 at eta=1200" in claim.ours and "vacuous" in claim.ours
    unit["limit_converged"][0] = False
    assert not experiment._claim_sparsity(unit, 4800.0).passed
    with pytest.raises(ValueError):
        experiment._claim_sparsity(unit, 600.0)


@pytest.mark.parametrize("override, key", [
    ("batch.method='snss'", "batch.method"), ("solver.n_sinkhorn=0", "solver.n_sinkhorn"),
    ("sparsity.steps=10", "sparsity.steps"), ("random.eta=150.0", "random.eta"),
    ("sweep.etas=(100.0,10.0)", "sweep.etas")])
def test_bad_config_values_fail_before_any_work(tmp_path, override, key):
    config = default.get_config(f"smoke,{override}")
    workdir = str(tmp_path / "run")
    with pytest.raises(ConfigError, match=key):
        experiment.check_data(config)
    with pytest.raises(ConfigError, match=key):
        experiment.train(config, workdir)
    assert not os.path.exists(workdir)
    assert experiment.config_errors(SMOKE) == []
    assert experiment.config_errors(default.get_config("small")) == []


def test_corrupt_unit_file_gives_a_clear_error(tmp_path):
    workdir = str(tmp_path)
    experiment.save_unit(workdir, "pot", {"a": np.arange(1000.0)})
    path = experiment.unit_path(workdir, "pot")
    np.testing.assert_array_equal(experiment.load_unit(workdir, "pot")["a"], np.arange(1000.0))
    with open(path, "rb") as f:
        data = f.read()
    for broken in (data[: len(data) // 2], b"not an npz file", b""):
        with open(path, "wb") as f:
            f.write(broken)
        with pytest.raises(ValueError, match="pot.npz is unreadable"):
            experiment.load_unit(workdir, "pot")


def test_configs_parse_strictly():
    assert default.get_config("paper").images.source == "mnist"
    assert default.get_config("small,seed=3").seed == 3
    with pytest.raises(ConfigError):
        default.get_config("small,solver.tolerance=1.0")
    with pytest.raises(ConfigError):
        default.get_config("huge")


def test_end_to_end_smoke_train_resume_eval(tmp_path):
    workdir = str(tmp_path / "run")
    state = experiment.train(SMOKE, workdir)
    assert int(state.step) == len(experiment.UNITS)
    assert os.listdir(os.path.join(workdir, "checkpoints"))
    unit_times = {u: os.path.getmtime(experiment.unit_path(workdir, u)) for u in experiment.UNITS}
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        n_lines = len(f.readlines())
    again = experiment.train(SMOKE, workdir)      # resumes: nothing left to do
    np.testing.assert_array_equal(np.asarray(again.unit_seconds), np.asarray(state.unit_seconds))
    assert {u: os.path.getmtime(experiment.unit_path(workdir, u)) for u in experiment.UNITS} == unit_times
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        assert len(f.readlines()) == n_lines
    record = experiment.evaluate(SMOKE, workdir)
    with open(os.path.join(workdir, "eval.json")) as f:
        saved = json.load(f)
    assert [c["name"] for c in saved["claims"]] == list(experiment.CLAIM_NAMES) == [c["name"] for c in record["claims"]]
    for fig in saved["figures"]:
        assert os.path.getsize(os.path.join(workdir, fig)) > 0
    # The POT claim is robust even at smoke scale; claim 4 is judged at the random-assignment eta.
    assert saved["claims"][2]["passed"]
    assert f"at eta={SMOKE.random.eta:g} (n=" in saved["claims"][3]["statement"]
    assert len(saved["metrics"]["sparsity/theorem1_first_term"]) == len(SMOKE.sparsity.etas)
