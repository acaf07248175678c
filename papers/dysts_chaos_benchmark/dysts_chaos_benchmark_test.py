"""Tests of the invariants, the forecasters and the end-to-end smoke run."""
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from common import chaotic_systems as cs
from papers.dysts_chaos_benchmark import experiment
from papers.dysts_chaos_benchmark import forecasters as fc
from papers.dysts_chaos_benchmark import invariants as inv
from papers.dysts_chaos_benchmark.configs import default


def test_lorenz_lyapunov_spectrum_trace_and_values():
    """Sum of exponents = time average of div f = -(sigma + 1 + beta) exactly for Lorenz-63; the whole
    window's spectrum is the mean of its two halves' spectra."""
    with jax.enable_x64(True):
        s = cs.get_system("Lorenz")
        (est,) = inv.lyapunov_estimates(["Lorenz"], [jnp.asarray(s.ic)[None]], n_periods=40.0,
                                        pts_per_period=10, substeps=10, transient_periods=2.0)
    spec = est["spectrum"][0]
    p = s.params
    np.testing.assert_allclose(spec.sum(), -(p["sigma"] + 1 + p["beta"]), rtol=2e-4)  # RK4 step error O(h^4)
    assert 0.75 < spec[0] < 1.05  # literature value 0.906
    assert abs(spec[1]) < 0.1 and spec[2] < -14
    np.testing.assert_allclose(spec, (est["first_half"][0] + est["second_half"][0]) / 2, rtol=1e-10, atol=1e-12)
    assert np.all(np.abs(est["first_half"][0, [0, 2]] / spec[[0, 2]] - 1) < 0.3)
    np.testing.assert_allclose(est["time"], 40 * s.period)


def test_lyapunov_convergence_diagnostics():
    """Closed-form diagnostics: a clean chaotic estimate converges; regular motion (lambda_1 is the zero
    exponent), a drift between the halves, or disagreeing initial conditions do not."""
    chaotic = np.array([[0.9, 0.001, -14.6], [0.91, -0.001, -14.6]])
    d = inv.lyapunov_convergence(chaotic, chaotic * 0.98, chaotic * 1.02, tol=0.1)
    assert d["converged"] and d["half_change"] == pytest.approx(0.04)
    assert d["ic_spread"] == pytest.approx(0.01 / 0.905) and d["zero_ratio"] == pytest.approx(0.0)
    cycle = np.array([[0.004, -0.17, -1.5]])
    assert inv.lyapunov_convergence(cycle, cycle, cycle)["zero_ratio"] == pytest.approx(1.0)
    assert not inv.lyapunov_convergence(cycle, cycle, cycle)["converged"]
    drift = inv.lyapunov_convergence(chaotic, chaotic * 1.3, chaotic * 0.7)
    assert drift["half_change"] == pytest.approx(0.6) and not drift["converged"]
    spread = np.array([[0.9, 0.0, -14.6], [0.5, 0.0, -14.6]])
    assert not inv.lyapunov_convergence(spread, spread, spread)["converged"]
    fixed_point = np.array([[0.0, -0.5, -3.0]])  # no positive exponent at all
    assert not inv.lyapunov_convergence(fixed_point, fixed_point, fixed_point)["converged"]
    np.testing.assert_array_equal(inv.is_converged(np.array([0.9, 0.9, -0.1]),
                                                   np.array([[0.0, 0.2, 0.0], [0.05, 0.0, 0.0]]), 0.1),
                                  [True, False, False])


def test_partial_spearman_removes_a_shared_confounder():
    rng = np.random.default_rng(0)
    c = rng.normal(size=400)
    a, b = c + 0.3 * rng.normal(size=400), c + 0.3 * rng.normal(size=400)
    assert scipy.stats.spearmanr(a, b)[0] > 0.8
    assert abs(experiment.partial_spearman(a, b, c)) < 0.15  # a and b are related only through c
    assert experiment.partial_spearman(a, a + 0.1 * rng.normal(size=400), c) > 0.5


def test_kaplan_yorke_closed_form():
    assert inv.kaplan_yorke_dimension([0.906, 0.0, -14.572]) == pytest.approx(2 + 0.906 / 14.572)
    assert inv.kaplan_yorke_dimension([-0.1, -1.0]) == 0.0
    assert inv.kaplan_yorke_dimension([0.2, 0.1, -0.05]) == 3.0
    assert inv.kaplan_yorke_dimension([0.3, -0.1, -0.4]) == pytest.approx(2 + 0.2 / 0.4)


def test_correlation_dimension_of_line_and_plane():
    rng = np.random.default_rng(0)
    line = np.outer(rng.uniform(size=800), [1.0, 2.0, -1.0])
    plane = np.c_[rng.uniform(size=(800, 2)), np.zeros(800)]
    assert abs(inv.correlation_dimension(line, n_points=800, theiler=0) - 1) < 0.15
    assert abs(inv.correlation_dimension(plane, n_points=800, theiler=0) - 2) < 0.3


def _sampen_bruteforce(u, m, r):
    n = len(u)
    def count(mm):
        t = [u[i:i + mm] for i in range(n - m)]
        return sum(np.max(np.abs(t[i] - t[j])) <= r for i in range(len(t)) for j in range(len(t)) if i != j)
    return -np.log(count(m + 1) / count(m))


def test_sample_entropy_matches_bruteforce_and_orders_signals():
    rng = np.random.default_rng(1)
    u = rng.normal(size=60)
    r = 0.2 * u.std()
    assert inv.sample_entropy(u, m=2, r=r) == pytest.approx(_sampen_bruteforce(u, 2, r), rel=1e-6)
    sine = np.sin(np.arange(600) * 0.3)
    assert inv.multiscale_entropy(sine, scales=2) < inv.multiscale_entropy(rng.normal(size=600), scales=2)


def test_scores_closed_form():
    y = jnp.array([[1.0, 2.0, -1.0, 4.0]])
    p = jnp.array([[1.0, 1.0, 1.0, 0.0]])
    want = 200 / 4 * (0 + 1 / 3 + 2 / 2 + 4 / 4)
    assert float(fc.smape(y, p)[0]) == pytest.approx(want, rel=1e-6)
    assert int(fc.valid_prediction_time(y, p, jnp.array([2.0]), eps=0.4)[0]) == 1


def _sine(n, period=15.0):
    return jnp.sin(2 * np.pi * jnp.arange(n) / period)[None]


def test_linear_forecasters_continue_a_sine():
    """A sampled sine obeys y_{t+1} = 2 cos(w) y_t - y_{t-1}: ridge AR and NVAR must continue it."""
    y = _sine(200)
    keys = jax.random.PRNGKey(0)[None]
    for model, hp in (("ridge_ar", dict(lags=4, alpha=1e-10)), ("nvar", dict(lags=3, alpha=1e-10))):
        with jax.enable_x64(True):
            pred = fc.forecast_batch(model, y[:, :170].astype(jnp.float64), keys, 30, hp)
        np.testing.assert_allclose(np.asarray(pred), np.asarray(y[:, 170:]), atol=1e-4, err_msg=model)
    naive = jnp.full((1, 30), y[0, 169])  # persistence
    esn = fc.forecast_batch("esn", y[:, :170], keys, 30, dict(size=60, spectral_radius=0.9, input_scale=0.5,
                                                             leak=0.5, alpha=1e-4, washout=15))
    err = lambda p: float(jnp.abs(p - y[:, 170:]).mean())
    assert err(esn) < 0.05 * err(naive)


def test_transformer_shapes_and_gradient_descent_step():
    """Patch transformer: output shape, and one small gradient step lowers the window loss (the training
    loop itself, _train_direct, is exercised by N-BEATS in the smoke run)."""
    y = np.sin(2 * np.pi * np.arange(170) / 15.0).astype(np.float32)
    idx = np.arange(126)[:, None]
    X, T = y[idx + np.arange(30)], y[idx + 30 + np.arange(15)]
    shapes = jax.eval_shape(lambda: fc.transformer_init(jax.random.PRNGKey(0), 30, 15, 5, 8, 2, 1))
    rng = np.random.default_rng(0)
    params = jax.tree.map(lambda s: (0.3 * rng.normal(size=s.shape)).astype(np.float32), shapes)

    @jax.jit
    def check(p):
        loss = lambda q: jnp.mean((fc.transformer_apply(q, X, patch=5, heads=2) - T) ** 2)
        l0, g = jax.value_and_grad(loss)(p)
        l1 = loss(jax.tree.map(lambda a, d: a - 1e-2 * d, p, g))
        return l0, l1, fc.transformer_apply(p, X[0], patch=5, heads=2)
    l0, l1, single = check(params)
    assert single.shape == (15,)
    assert float(l1) < float(l0)


@pytest.mark.parametrize("override", [
    "models.names=('naive','foo')", "models.names=('naive','naive')", "data.train_periods=12",
    "data.train_periods=13", "systems=('Lorenzz',)", "models.lookback_periods=20.0", "lyapunov.n_periods=0.0",
    "data.n_seeds=0", "models.tf_patch=40,models.names=('naive','transformer')", "eval.lyap_fraction=1.5"])
def test_invalid_config_fails_before_any_work(tmp_path, override):
    config = default.get_config("smoke," + override)
    wd = str(tmp_path / "run")
    with pytest.raises(ValueError, match="invalid dysts_chaos_benchmark config"):
        experiment.train_and_evaluate(config, wd)
    assert not os.path.exists(wd)


def test_valid_boundary_configs_pass_the_check():
    experiment.validate_config(default.get_config("small,models.lookback_periods=8.0"))  # exactly one window
    for v in ("smoke", "small", "paper"):
        experiment.validate_config(default.get_config(v))


def test_forecasters_run_in_the_configured_precision(monkeypatch):
    seen = []
    original = fc.forecast_batch

    def spy(model, y_train, *args):
        seen.append(y_train.dtype)
        return original(model, y_train, *args)
    monkeypatch.setattr(fc, "forecast_batch", spy)
    series = np.sin(2 * np.pi * np.arange(180) / 15.0)[None, None] + 2.0  # [seeds, systems, 12 periods]
    monkeypatch.setattr(experiment, "forecast_data", lambda config, g: series)
    for x64, want in ((True, jnp.float64), (False, jnp.float32)):
        config = default.get_config(f"smoke,x64={x64},systems=('Lorenz',)")
        out = experiment.run_forecast(config, 15, "ridge_ar")
        assert seen[-1] == want and np.all(np.isfinite(out["smape"]))


def test_configs_parse():
    for v in ("smoke", "small", "paper"):
        c = default.get_config(v)
        assert set(c.models.names) == set(fc.MODELS) or v == "smoke"
    assert default.get_config("paper").data.granularities == (15, 100)


def test_smoke_end_to_end(tmp_path):
    config = default.get_config("smoke")
    wd = str(tmp_path)
    experiment.train_and_evaluate(config, wd)
    assert os.path.isdir(os.path.join(wd, "checkpoints"))
    first = experiment.load_results(config, wd)
    n_lines = len(open(os.path.join(wd, "metrics.jsonl")).read().splitlines())
    experiment.train_and_evaluate(config, wd)  # resumes: nothing left to do
    assert len(open(os.path.join(wd, "metrics.jsonl")).read().splitlines()) == n_lines
    second = experiment.load_results(config, wd)
    for k in first:
        np.testing.assert_array_equal(first[k], second[k])
    assert np.all(np.isfinite(first["lyap"][:, 0])) and np.all(np.isfinite(first["smape_g15"]))
    record = experiment.evaluate(config, wd)
    ev = json.load(open(os.path.join(wd, "eval.json")))
    assert [c["name"] for c in ev["claims"]] == ["lyapunov_max", "error_vs_chaos", "ranking"]
    assert len(ev["metrics"]["lyap_converged"]) == 2 and "not converged" in ev["claims"][0]["ours"]
    assert "headline" in ev["claims"][2]["ours"] and "offset" in ev["claims"][1]["ours"]
    assert os.path.exists(os.path.join(wd, "benchmark_summary.png")) and record["claims"]
