"""Tests of the EF21 / EF21-W reproduction: closed forms, an independent numpy EF21, end to end."""
from __future__ import annotations

import json
import os
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common import metrics as metrics_lib
from common.config import ConfigError
from papers.ef21_weighted import compressors, ef21, experiment, problems, theory
from papers.ef21_weighted.configs import default as default_config


# ----------------------------------------------------------------------------- compressors

def test_top_k_keeps_largest_entries_and_contracts():
    x = jnp.asarray(np.random.default_rng(0).standard_normal((200, 30)))
    batched = jax.jit(jax.vmap(compressors.top_k, in_axes=(0, None)), static_argnums=1)
    for k in (1, 4, 30):
        cx = batched(x, k)
        xn = np.asarray(x)
        ref = np.zeros_like(xn)
        idx = np.argsort(-np.abs(xn), axis=1, kind="stable")[:, :k]
        np.put_along_axis(ref, idx, np.take_along_axis(xn, idx, 1), 1)
        np.testing.assert_array_equal(np.asarray(cx), ref)
        err = np.sum((ref - xn) ** 2, 1)
        assert np.all(err <= (1 - k / 30) * np.sum(xn**2, 1) + 1e-12)


def test_rand_k_contraction_and_unbiasedness():
    d, k, trials = 10, 3, 4000
    x = jnp.arange(1.0, d + 1.0)
    keys = jax.random.split(jax.random.PRNGKey(1), trials)
    c = jax.jit(jax.vmap(lambda kk: compressors.rand_k(x, kk, k)))(keys)
    assert np.all(np.sum(np.asarray(c) != 0, axis=1) == k)
    err = np.mean(np.sum((np.asarray(c) - np.asarray(x)) ** 2, 1)) / float(jnp.sum(x**2))
    assert abs(err - (1 - k / d)) < 0.03                 # E||C(x)-x||^2 = (1-k/d)||x||^2
    u = np.asarray(c) * (d / k)
    u_direct = compressors.rand_k(x, keys[0], k, unbiased=True)
    np.testing.assert_allclose(np.asarray(u_direct), u[0], rtol=1e-6)     # same randomness, scaled d/k
    np.testing.assert_allclose(u.mean(0), np.asarray(x), rtol=0.1)      # E (d/k) Rand-k(x) = x


# ----------------------------------------------------------------------------- theory

def test_theta_beta_and_step_sizes():
    for alpha in (0.02, 0.3, 1.0):
        theta, beta = theory.theta_beta(alpha)
        assert np.isclose(theta, 1 - np.sqrt(1 - alpha))
        if alpha < 1:
            assert np.isclose(beta, (1 - alpha) / (1 - np.sqrt(1 - alpha)))
            assert np.isclose(theory.xi(alpha), np.sqrt(beta / theta))
    assert theory.xi(1.0) == 0.0                          # no compression: gamma = 1/L
    L_i = np.array([1.0, 1.0, 1.0, 100.0])               # the paper's Example 2.1
    assert np.isclose(theory.l_am(L_i), 25.75) and np.isclose(theory.l_qm(L_i), np.sqrt(10003 / 4))
    assert theory.stepsize_ratio(30.0, L_i, 0.1) > 1.0
    assert theory.stepsize_ratio(7.0, np.full(5, 3.0), 0.1) == 1.0
    assert np.isclose(theory.stepsize(2.0, 3.0, 1.0), 0.5)
    assert np.isclose(theory.ef21w_weights(L_i).sum(), 1.0)
    assert theory.participation_alpha(0.2, 0.5) == 0.1


# ----------------------------------------------------------------------------- problems

def test_gradients_match_autodiff_and_L_i_are_exact():
    with jax.enable_x64(True):
        ls = problems.make_least_squares(0, n=4, d=6, m=8, L_min=1.0, L_max=50.0, kappa=5.0)
        lr = problems.make_digits_logistic(n=5, lam=0.1, seed=0, spread=4.0, scale_spread=3.0)
        for p in (ls, lr):
            x = jnp.asarray(np.random.default_rng(1).standard_normal(p.dim)) * 0.1
            data = {k: jnp.asarray(v) for k, v in p.client_data().items()}
            both = jax.jit(jax.vmap(lambda c: (problems.client_grad(p.kind, p.lam, x, c), jax.grad(
                lambda z: problems.client_loss(p.kind, p.lam, z, c))(x))))
            g, g_ad = both(data)
            np.testing.assert_allclose(np.asarray(g), np.asarray(g_ad), rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(np.asarray(g).mean(0), problems.full_gradient_np(p, np.asarray(x)),
                                       rtol=1e-10, atol=1e-12)
        for i in range(ls.n):                             # L_i = lambda_max(A_i^T A_i / m) exactly
            lam_max = np.linalg.eigvalsh(ls.A[i].T @ ls.A[i] / 8)[-1]
            assert np.isclose(lam_max, ls.L_i[i], rtol=1e-10)
        assert theory.l_qm(ls.L_i) > theory.l_am(ls.L_i) >= ls.L * (1 - 1e-12)   # L <= L_AM


def test_gradient_descent_baseline_matches_closed_form():
    """Plain GD on least squares: grad f(x^t) = H (I - gamma H)^t (x^0 - x*) with x^0 = 0 (eigenbasis of H);
    the stacked-rows gradient equals the per-client reference on logistic regression too."""
    p = problems.make_least_squares(0, n=5, d=6, m=8, L_min=1.0, L_max=50.0, kappa=5.0)
    H = np.einsum("nmi,nmj->ij", p.A, p.A) / (p.n * 8)
    lam, Q = np.linalg.eigh(H)
    c = Q.T @ (-problems.least_squares_solution(p))
    gamma, rounds = 1.0 / p.L, 15                    # ||grad f||^2 stays far above rounding (~1e-10)
    gn2_0, hist = problems.gradient_descent(p, gamma, rounds)
    expected = [np.sum((lam * (1 - gamma * lam) ** t * c) ** 2) for t in range(rounds + 1)]
    np.testing.assert_allclose(np.concatenate([[gn2_0], hist]), expected, rtol=1e-9)
    lr = problems.make_digits_logistic(n=5, lam=0.1, seed=0, spread=4.0, scale_spread=3.0)
    x = np.random.default_rng(3).standard_normal(lr.dim) * 0.1
    np.testing.assert_allclose(problems.full_gradient_rows(lr, problems.stacked_rows(lr), x),
                               problems.full_gradient_np(lr, x), rtol=1e-10, atol=1e-14)


def test_weighted_aggregate_is_the_gradient():
    """sum_i a_i s_i grad f_i = grad f for EF21 and EF21-W (the server's g tracks grad f)."""
    L_i = np.array([1.0, 3.0, 40.0])
    grads = np.random.default_rng(2).standard_normal((3, 4))
    for weighted in (False, True):
        s, a = ef21.method_coefficients(L_i, weighted)
        np.testing.assert_allclose((a * s) @ grads, grads.mean(0), rtol=1e-14)


# ----------------------------------------------------------------------------- EF21 against numpy

def numpy_ef21(p: problems.Problem, gamma: float, weighted: bool, rounds: int, k: int):
    """An independent, loop-based EF21 / EF21-W (Algorithms 1-2) with Top-k in numpy float64."""
    n = p.n
    if weighted:
        w = p.L_i / p.L_i.sum()
        s, a = 1.0 / (n * w), w
    else:
        s, a = np.ones(n), np.full(n, 1.0 / n)

    def grads(x):
        return np.stack([p.A[i].T @ (p.A[i] @ x - p.b[i]) / p.mask[i].sum() for i in range(n)])

    def topk(v):
        out = np.zeros_like(v)
        idx = np.argsort(-np.abs(v), kind="stable")[:k]
        out[idx] = v[idx]
        return out

    x = np.zeros(p.dim)
    gi = s[:, None] * grads(x)
    g = (a[:, None] * gi).sum(0)
    hist = []
    for _ in range(rounds):
        x = x - gamma * g
        G = grads(x)
        for i in range(n):
            c = topk(s[i] * G[i] - gi[i])
            gi[i] += c
            g = g + a[i] * c
        hist.append(np.sum(G.mean(0) ** 2))
    return x, np.array(hist)


def test_sharded_runner_matches_numpy_ef21_and_ef21w():
    config = default_config.get_config("smoke")
    with jax.enable_x64(True):
        p = experiment.build_problems(config)["ls_hetero"]
        runner = ef21.EF21Runner(p, ef21.make_client_mesh(), sgd_batch=config.sgd_batch)
        gamma = theory.stepsize_new(p.L, p.L_i, 1.0 / p.dim)
        xs = {}
        for weighted in (False, True):
            state, _ = runner.init(np.zeros(p.dim), weighted)
            state, hist = runner.run(state, gamma=gamma, weighted=weighted, rounds=config.ls.rounds, k=1)
            x_ref, h_ref = numpy_ef21(p, gamma, weighted, config.ls.rounds, 1)
            np.testing.assert_allclose(np.asarray(state["x"]), x_ref, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(np.asarray(hist["gn2"]), h_ref, rtol=1e-8, atol=1e-20)
            xs[weighted] = np.asarray(state["x"])
        # Section 2.4: with a positively homogeneous compressor EF21-W is EF21 (same gamma).
        np.testing.assert_allclose(xs[True], xs[False], rtol=1e-10)


def test_rounds_to_tolerance():
    assert ef21.rounds_to_tolerance(1.0, np.array([0.5, 0.1, 1e-3, 1e-7]), 1e-6) == 4
    assert ef21.rounds_to_tolerance(1.0, np.array([0.5, 0.1]), 1e-6) == -1


# ----------------------------------------------------------------------------- config check

@pytest.mark.parametrize("override", [{"participation": 0.0}, {"participation": 1.5}, {"sgd_batch": 0},
                                      {"k": 0}, {"ls.tol": 1.0}, {"shard_check.devices": 1}])
def test_bad_config_fails_before_any_work(tmp_path, override):
    config = default_config.get_config("smoke")
    for variant in ("smoke", "small", "paper"):
        assert experiment.config_errors(default_config.get_config(variant)) == []
    config.update_from_flattened_dict(override)
    key = next(iter(override))
    workdir = tmp_path / "run"
    with pytest.raises(ConfigError, match=re.escape(f"{key} = ")):
        experiment.train_and_evaluate(config, str(workdir))
    assert not workdir.exists()                      # nothing was run or written
    with pytest.raises(ConfigError):
        experiment.check_data(config)                # what the train binary runs first


# ----------------------------------------------------------------------------- end to end

@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("ef21_weighted_smoke"))
    config = default_config.get_config("smoke")
    first = experiment.train_and_evaluate(config, workdir)
    return config, workdir, first


def test_end_to_end_train_resume_eval(smoke_run):
    config, workdir, first = smoke_run
    n_units = len(experiment.build_units(config)) + 1
    assert os.path.isdir(os.path.join(workdir, "checkpoints", str(n_units)))
    records = metrics_lib.read_metrics(workdir)
    assert [r["step"] for r in records] == list(range(1, n_units + 1))
    lines_before = open(os.path.join(workdir, "metrics.jsonl")).read()
    second = experiment.train_and_evaluate(config, workdir)          # resumes: nothing left to do
    assert open(os.path.join(workdir, "metrics.jsonl")).read() == lines_before
    assert second["metrics"] == first["metrics"]
    record = json.load(open(os.path.join(workdir, "eval.json")))
    names = [c["name"] for c in record["claims"]]
    assert names == ["1_speedup_ls_hetero", "1b_speedup_logreg", "2_homogeneous_identical",
                     "3_no_divergence_bits", "4_sharded_equals_single", "5_rate_bound"]
    assert os.path.exists(os.path.join(workdir, "convergence.png"))
    # Exact properties that hold at any scale:
    homo = record["claims"][2]
    assert homo["passed"], homo
    m = record["metrics"]
    assert m["ls_hetero/ef21w_new"]["gamma"] > m["ls_hetero/ef21_old"]["gamma"]
    for prob in ("ls_hetero", "logreg"):                            # plain GD baseline at the same steps
        for step in ("old", "new"):
            assert m[f"{prob}/gd_{step}"]["gamma"] == m[f"{prob}/ef21_{step}"]["gamma"]
    assert m["ls_hetero/gd_old"]["avg_gn2"] > m["ls_hetero/gd_new"]["avg_gn2"]   # quadratic: larger step, faster


def test_sharded_over_8_devices_equals_single_device(smoke_run):
    """The train run's subprocess used 8 simulated CPU devices (XLA_FLAGS set before JAX started)."""
    config, workdir, _ = smoke_run
    out = json.load(open(os.path.join(workdir, "sharding_check.json")))
    assert out["devices"] == 8 == config.shard_check.devices
    assert out["n_clients"] % 8 != 0                   # exercises the padding of the client axis
    for setting in ("top_k", "rand_k_sgd_pp"):
        assert out[setting]["max_rel_diff_x"] <= 1e-12, out
        assert out[setting]["max_rel_diff_gn2"] <= 1e-12, out
        assert out[setting]["same_participation"]
        assert out[setting]["final_gn2_ratio"] < 1.0
