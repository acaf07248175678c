"""Unit tests of DPM-Solver's math (closed forms, scipy/diffrax cross-checks, properties) + an end-to-end smoke run."""
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate

from common import claims as claims_lib
from papers.dpm_solver import baselines, exact, quality, schedules, solvers
from papers.dpm_solver.configs import default as configs

MU, S = 1.5, 0.2          # Gaussian data N(MU, S^2 I): the diffusion ODE has a closed-form flow


def _gauss_setup(n=64, dtype=jnp.float64):
    sch = schedules.ContinuousLinear()
    x = jax.random.normal(jax.random.PRNGKey(0), (n, 2), dtype)
    truth = exact.gaussian_ode_flow(MU, S, sch, x, sch.T, 1e-3)
    return sch, exact.gaussian_noise_pred(MU, S, sch), x, truth


def _err(x, y):
    return float(jnp.mean(jnp.linalg.norm(x - y, axis=-1)))


@pytest.mark.parametrize("name", ["continuous_linear", "continuous_cosine", "discrete_linear", "discrete_cosine"])
def test_schedule_inverse_lambda_and_dtypes(name):
    sch = schedules.make_schedule(name)
    with jax.enable_x64(True):
        t = jnp.linspace(1e-3, sch.T, 257, dtype=jnp.float64)
        lam = sch.lambda_(t)
        assert lam.dtype == jnp.float64
        assert bool(jnp.all(jnp.diff(lam) < 0)), "lambda_t must decrease"
        np.testing.assert_allclose(sch.inverse_lambda(lam), t, atol=1e-9)
        np.testing.assert_allclose(sch.alpha(t) ** 2 + sch.sigma(t) ** 2, 1.0, atol=1e-12)
        np.testing.assert_allclose(lam, jnp.log(sch.alpha(t) / sch.sigma(t)), atol=1e-9)
    t32 = jnp.linspace(1e-3, sch.T, 65, dtype=jnp.float32)
    assert sch.lambda_(t32).dtype == jnp.float32
    np.testing.assert_allclose(sch.inverse_lambda(sch.lambda_(t32)), t32, rtol=2e-3, atol=2e-5)


def test_schedules_match_their_definitions():
    with jax.enable_x64(True):
        lin = schedules.ContinuousLinear(0.1, 20.0)
        for t in (0.01, 0.3, 1.0):   # log alpha_t = -1/2 int_0^t beta(s) ds (scipy quadrature)
            integral = scipy.integrate.quad(lambda s: 0.1 + s * 19.9, 0.0, t)[0]
            np.testing.assert_allclose(float(lin.log_alpha(jnp.float64(t))), -0.5 * integral, rtol=1e-12)
        f, g2 = lin.f_g2(jnp.float64(0.5))
        np.testing.assert_allclose([float(f), float(g2)], [-0.5 * (0.1 + 0.5 * 19.9), 0.1 + 0.5 * 19.9], rtol=1e-12)
        dis = schedules.discrete_linear(1000)
        n = np.array([0, 10, 500, 999])
        abar = np.cumprod(1.0 - np.linspace(1e-4, 0.02, 1000))
        np.testing.assert_allclose(dis.alpha(jnp.asarray((n + 1) / 1000.0)), np.sqrt(abar[n]), rtol=1e-10)


def test_every_schedule_hands_the_network_one_time_scale():
    """model_time is on the scale of t in [0, 1] for every schedule and the embedding applies the factor 1000
    once: a 1000-step discrete schedule's network sees DDPM's integer label n, a continuous one 1000 t."""
    from papers.dpm_solver import models
    freqs = np.exp(-np.log(10_000.0) * np.arange(8) / 8)
    sinusoid = lambda a: np.concatenate([np.sin(a[:, None] * freqs), np.cos(a[:, None] * freqs)], -1)
    with jax.enable_x64(True):
        for name in ("continuous_linear", "continuous_cosine", "discrete_linear", "discrete_cosine"):
            sch = schedules.make_schedule(name)
            t = jnp.linspace(1.0 / sch.total_n, sch.T, 33, dtype=jnp.float64)
            assert float(jnp.min(sch.model_time(t))) >= 0.0 and float(jnp.max(sch.model_time(t))) <= 1.0, name
        n = np.array([0, 1, 250, 999])
        t_n = jnp.asarray((n + 1) / 1000.0)
        np.testing.assert_allclose(1000.0 * schedules.discrete_linear(1000).model_time(t_n), n, atol=1e-9)
        emb = models.timestep_embedding(schedules.discrete_linear(1000).model_time(t_n), 16)
        np.testing.assert_allclose(emb, sinusoid(n.astype(float)), atol=1e-3)
        t = jnp.asarray([1e-3, 0.5, 1.0])
        emb = models.timestep_embedding(schedules.ContinuousLinear().model_time(t), 16)
        np.testing.assert_allclose(emb, sinusoid(1000.0 * np.asarray(t)), atol=1e-3)


def test_fast_orders_match_paper_rule():
    for nfe in range(1, 40):
        for order in (1, 2, 3):
            o = solvers.fast_orders(nfe, order)
            assert sum(o) == nfe and max(o) <= order
    assert solvers.fast_orders(12, 3) == [3, 3, 3, 2, 1]
    assert solvers.fast_orders(10, 3) == [3, 3, 3, 1]
    assert solvers.fast_orders(11, 3) == [3, 3, 3, 2]
    assert solvers.fast_orders(15, 2) == [2] * 7 + [1]


def test_dpm_solver_1_is_ddim():
    """DDIM's update x_t = alpha_t x0_hat + sigma_t eps, x0_hat = (x_s - sigma_s eps)/alpha_s, equals Eq. (3.7)."""
    with jax.enable_x64(True):
        sch = schedules.discrete_linear()
        x = jax.random.normal(jax.random.PRNGKey(1), (8, 3), jnp.float64)
        e = jax.random.normal(jax.random.PRNGKey(2), (8, 3), jnp.float64)
        s, t = jnp.float64(0.8), jnp.float64(0.3)
        got, _ = solvers.dpm_solver_1_update(lambda x, t: e, sch, x, s, t)
        ddim = sch.alpha(t) * (x - sch.sigma(s) * e) / sch.alpha(s) + sch.sigma(t) * e
        np.testing.assert_allclose(got, ddim, rtol=1e-12)


def test_convergence_orders_against_closed_form():
    """Global error ~ NFE^{-k} for DPM-Solver-k (Theorem 3.2), Gaussian data, float64."""
    from papers.dpm_solver.experiment import FixedRunner
    with jax.enable_x64(True):
        sch, eps, x, truth = _gauss_setup()
        run = FixedRunner(eps, sch, 96)           # one compiled integrator for every order and NFE
        nfes = [24, 48, 96]
        for order in (1, 2, 3):
            errs = [_err(run(x, [order] * (n // order), "logSNR", sch.T, 1e-3), truth) for n in nfes]
            slope = -np.polyfit(np.log(nfes), np.log(errs), 1)[0]
            assert abs(slope - order) < 0.45, (order, slope, errs)


def test_orders_are_exact_for_x_independent_eps():
    """Independent route: for eps(x, t) = c(lambda_t) the ODE solution is the quadrature
    x_0 = (alpha_0/alpha_T) x_T - alpha_0 int e^{-lambda} c(lambda) dlambda (scipy), so the error is the solver's
    pure exponential-integrator quadrature error. DPM-Solver-3 is exact for c linear in lambda, -1/-2 for
    constant c; for c = sin(lambda) the global error falls as steps^{-k} (fitted slope within 0.1 of k)."""
    with jax.enable_x64(True):
        sch = schedules.ContinuousLinear()
        t_T, t_0 = sch.T, 1e-3
        lam_T, lam_0 = float(sch.lambda_(jnp.float64(t_T))), float(sch.lambda_(jnp.float64(t_0)))
        a_T, a_0 = float(sch.alpha(jnp.float64(t_T))), float(sch.alpha(jnp.float64(t_0)))
        x = jnp.asarray([[0.3, -1.2]], jnp.float64)

        def truth(c):
            integral = scipy.integrate.quad(lambda l: np.exp(-l) * c(l), lam_T, lam_0, epsabs=1e-13, epsrel=1e-13)[0]
            return a_0 / a_T * np.asarray(x) - a_0 * integral

        def solve(c_jnp, order, steps):
            eps = lambda z, t: jnp.ones_like(z) * c_jnp(sch.lambda_(t))
            grid = solvers.time_steps(sch, "logSNR", t_T, t_0, steps, jnp.float64)
            return np.asarray(solvers.integrate_grid(eps, sch, x, grid, np.full(steps, order)))

        lin = (lambda l: 0.7 + 0.3 * l, lambda l: 0.7 + 0.3 * l)
        const = (lambda l: 0.7 + 0.0 * l, lambda l: 0.7)
        np.testing.assert_allclose(solve(lin[0], 3, 2), truth(lin[1]), rtol=1e-10, atol=1e-10)
        for order in (1, 2):
            np.testing.assert_allclose(solve(const[0], order, 2), truth(const[1]), rtol=1e-10, atol=1e-10)
        assert np.max(np.abs(solve(lin[0], 2, 2) - truth(lin[1]))) > 1e-3    # DPM-Solver-2 is not exact there
        from papers.dpm_solver.experiment import FixedRunner
        run = FixedRunner(lambda z, t: jnp.ones_like(z) * jnp.sin(sch.lambda_(t)), sch, 256)   # one compile
        ref = truth(np.sin)
        steps = np.array([64, 128, 256])
        for order in (1, 2, 3):
            errs = [np.max(np.abs(np.asarray(run(x, [order] * k, "logSNR", t_T, t_0)) - ref)) for k in steps]
            slope = -np.polyfit(np.log(steps), np.log(errs), 1)[0]
            assert abs(slope - order) < 0.1, (order, slope, errs)


def test_isotropic_mixture_eps_matches_common_score():
    from common.data import mixture_2d
    with jax.enable_x64(True):
        sch = schedules.ContinuousLinear()
        mix = mixture_2d("ring8", dtype=jnp.float64)
        x = 3.0 * jax.random.normal(jax.random.PRNGKey(9), (32, 2), jnp.float64)
        for t in (1e-3, 0.2, 0.9):
            t = jnp.float64(t)
            np.testing.assert_allclose(exact.isotropic_mixture_noise_pred(mix, sch)(x, t),
                                       exact.mixture_noise_pred(mix, sch)(x, t), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError):
        from common.data import GaussianMixture
        exact.isotropic_mixture_noise_pred(GaussianMixture(jnp.ones(1), jnp.zeros((1, 2)),
                                                           jnp.asarray([[[1.0, 0.5], [0.5, 1.0]]])), sch)


def test_reference_and_euler_agree_with_closed_form():
    with jax.enable_x64(True):
        sch, eps, x, truth = _gauss_setup(n=16)
        ref, nfe = solvers.sample(eps, x, sch, method="reference", ref_rtol=1e-9, ref_atol=1e-9)
        assert _err(ref, truth) < 1e-7 and int(nfe) > 0
        eul, used = solvers.sample(eps, x, sch, nfe=400, method="euler_ode", skip_type="time_uniform")
        assert used == 400 and _err(eul, truth) < 5e-3


def test_adaptive_meets_tolerance_and_counts_nfe():
    with jax.enable_x64(True):
        sch, eps, x, truth = _gauss_setup()
        run = jax.jit(lambda x, tol: solvers.dpm_solver_adaptive(eps, sch, x, 3, sch.T, 1e-3, atol=tol, rtol=tol))
        loose, info_loose = run(x, 0.05)
        tight, info_tight = run(x, 1e-4)
        n_loose, n_tight = int(info_loose["nfe"]), int(info_tight["nfe"])
        assert n_loose == 3 * (int(info_loose["accepted"]) + int(info_loose["rejected"]))
        assert n_tight > n_loose
        assert _err(tight, truth) < _err(loose, truth) < 0.05 * MU


def test_adaptive_stops_with_an_error_when_t_end_is_not_reached():
    """A NaN noise prediction stops the adaptive loop at once and ``sample`` raises; so does max_trials
    (under jit, ``sample`` returns NaN instead)."""
    sch = schedules.ContinuousLinear()
    x = jax.random.normal(jax.random.PRNGKey(11), (4, 2), jnp.float32)
    nan_below_half = lambda z, t: jnp.where(t < 0.5, jnp.nan, 1.0) * z
    with pytest.raises(RuntimeError, match=r"stopped at t = 0\.[5-9]\d* before t_end .* after \d{1,2} trial steps"):
        solvers.sample(nan_below_half, x, sch, order=2, method="adaptive")
    eps = exact.gaussian_noise_pred(MU, S, sch)
    capped = jax.jit(lambda z: solvers.sample(eps, z, sch, order=2, method="adaptive", max_trials=2)[0])(x)
    assert bool(jnp.all(jnp.isnan(capped)))


def test_sample_options_singlestep_fixed_time_quadratic_denoise():
    """Through ``sample``: DPM-Solver-3 with nfe // 3 steps (NFE accounting, 3rd-order accuracy against the
    closed-form flow), the time-quadratic grid (uniform in sqrt(t)), and the final denoising step, which for
    Gaussian data must give Tweedie's posterior mean E[x_0 | x_t] = mu + alpha s^2 / (alpha^2 s^2 + sigma^2)
    (x_t - alpha mu)."""
    with jax.enable_x64(True):
        sch, eps, x, truth = _gauss_setup(n=16)
        lam, used = solvers.sample(eps, x, sch, nfe=25, order=3, method="singlestep_fixed")
        assert used == 24 and _err(lam, truth) < 3e-3            # DDIM@24: 2e-2
        quad, used_q = solvers.sample(eps, x, sch, nfe=24, order=3, method="singlestep_fixed",
                                      skip_type="time_quadratic")
        assert used_q == 24 and _err(quad, truth) < 3e-3 and _err(quad, lam) > 1e-5
        grid = np.asarray(solvers.time_steps(sch, "time_quadratic", sch.T, 1e-3, 8, jnp.float64))
        np.testing.assert_allclose(grid[[0, -1]], [sch.T, 1e-3], rtol=1e-12)
        np.testing.assert_allclose(np.diff(np.sqrt(grid)), (np.sqrt(1e-3) - 1.0) / 8, rtol=1e-9)
        den, used_d = solvers.sample(eps, x, sch, nfe=25, order=3, method="singlestep_fixed", denoise=True)
        a, sg = sch.alpha(jnp.float64(1e-3)), sch.sigma(jnp.float64(1e-3))
        assert used_d == 25
        np.testing.assert_allclose(den, MU + a * S ** 2 / (a ** 2 * S ** 2 + sg ** 2) * (lam - a * MU), rtol=1e-10)
        with pytest.raises(ValueError):
            solvers.sample(eps, x, sch, nfe=2, order=3, method="singlestep_fixed")


def test_euler_maruyama_matches_marginal_variance():
    """EM samples started from N(0, 1) at T reach the marginal N(alpha MU, alpha^2 S^2 + sigma^2) at t = 1e-3."""
    sch = schedules.ContinuousLinear()
    eps = exact.gaussian_noise_pred(MU, S, sch)
    x = jax.random.normal(jax.random.PRNGKey(3), (4000, 1), jnp.float32)
    y, _ = solvers.sample(eps, x, sch, nfe=300, method="euler_maruyama", skip_type="time_uniform",
                          key=jax.random.PRNGKey(4))
    a, s = float(sch.alpha(1e-3)), float(sch.sigma(1e-3))
    np.testing.assert_allclose(float(jnp.mean(y)), a * MU, atol=0.03)
    np.testing.assert_allclose(float(jnp.std(y)), np.sqrt(a ** 2 * S ** 2 + s ** 2), rtol=0.08)


def test_mixture_eps_is_minus_sigma_times_autodiff_score():
    from common.data import mixture_2d
    sch = schedules.ContinuousLinear()
    mix = mixture_2d("pair")
    eps = exact.mixture_noise_pred(mix, sch)
    x = jax.random.normal(jax.random.PRNGKey(5), (5, 2))
    t = jnp.float32(0.4)
    grad = jax.jit(jax.vmap(jax.grad(lambda v: mix.noised(sch.alpha(t), sch.sigma(t)).log_prob(v))))(x)
    np.testing.assert_allclose(jax.jit(eps)(x, t), -sch.sigma(t) * grad, rtol=1e-4, atol=1e-5)


def test_sliced_w2_matches_pot_emd_and_frechet_closed_form():
    import ot
    x = jax.random.normal(jax.random.PRNGKey(6), (64, 2))
    y = jax.random.normal(jax.random.PRNGKey(7), (64, 2)) + 0.5
    d = quality.random_directions(jax.random.PRNGKey(8), 3, 2)
    w2sq = []
    for k in range(3):          # exact 1-D W2^2 per direction by POT's linear program
        px, py = np.asarray(x @ d[k], np.float64), np.asarray(y @ d[k], np.float64)
        w = np.full(64, 1 / 64)
        w2sq.append(ot.emd2(w, w, (px[:, None] - py[None]) ** 2))
    np.testing.assert_allclose(float(quality.sliced_w2(x, y, d)), np.sqrt(np.mean(w2sq)), rtol=1e-4)
    y3 = jax.random.normal(jax.random.PRNGKey(10), (192, 2)) * 1.5      # unequal sizes: 64 vs 3 x 64 atoms
    w2sq = [ot.emd2(np.full(64, 1 / 64), np.full(192, 1 / 192),
                    (np.asarray(x @ d[k], np.float64)[:, None] - np.asarray(y3 @ d[k], np.float64)[None]) ** 2)
            for k in range(3)]
    np.testing.assert_allclose(float(quality.sliced_w2(x, y3, d)), np.sqrt(np.mean(w2sq)), rtol=1e-4)
    reps = quality.sliced_w2_replicates(jnp.stack([x, y]), jnp.stack([y3, y3]), d)
    np.testing.assert_allclose(float(reps[0]), float(quality.sliced_w2(x, y3, d)), rtol=1e-6)
    with pytest.raises(ValueError):
        quality.sliced_w2(x, y3[:100], d)
    m, se = quality.mean_and_se([1.0, 2.0, 3.0])
    assert m == 2.0 and abs(se - 1.0 / np.sqrt(3.0)) < 1e-12
    a = np.random.default_rng(0).normal(size=(4000, 3))
    np.testing.assert_allclose(quality.frechet_distance(a, a + 2.0), 12.0, rtol=1e-6)


def test_energy_distance_brute_force_unbiasedness_and_gaussian_closed_form():
    from scipy.spatial.distance import cdist
    from scipy.stats import norm
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 2)), rng.normal(size=(40, 2)) + [1.0, 0.0]
    dxy, dxx, dyy = cdist(x, y), cdist(x, x), cdist(y, y)
    brute = 2 * dxy.mean() - dxx.sum() / (30 * 29) - dyy.sum() / (40 * 39)
    np.testing.assert_allclose(float(quality.energy_distance(jnp.asarray(x), jnp.asarray(y))), brute, rtol=1e-4)
    same = [float(quality.energy_distance(jnp.asarray(rng.normal(size=(20, 2)), jnp.float32),
                                          jnp.asarray(rng.normal(size=(20, 2)), jnp.float32))) for _ in range(300)]
    assert abs(np.mean(same)) < 3 * np.std(same) / np.sqrt(300)      # unbiased: zero mean for equal laws
    mu = 1.0                       # 1-D N(0, 1) vs N(mu, 1): E|X - Y| with X - Y ~ N(-mu, 2), E|X - X'| = 2/sqrt(pi)
    s2 = np.sqrt(2.0)
    e_xy = s2 * np.sqrt(2 / np.pi) * np.exp(-mu ** 2 / 4) + mu * (1 - 2 * norm.cdf(-mu / s2))
    exact = 2 * e_xy - 2 * (2 / np.sqrt(np.pi))
    big = float(quality.energy_distance(jnp.asarray(rng.normal(size=(3000, 1))),
                                        jnp.asarray(rng.normal(size=(3000, 1)) + mu)))
    np.testing.assert_allclose(big, exact, atol=0.03)


def test_metric_check_scores_pairs_replicates_and_measures_dispersion():
    from papers.dpm_solver import metric_check
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 0.0], [5.0, 0.0]])
    held = centres[rng.integers(0, 2, 64)] + 0.3 * rng.normal(size=(64, 2))
    tight = centres[rng.integers(0, 2, 64)] + 0.1 * rng.normal(size=(64, 2))
    rows = metric_check.score({"ddim@50": held[::-1].copy(), "tight": tight, "em@200": tight.copy()}, held,
                              centres, reps=2)
    assert rows["ddim@50"]["minus_ddim50"] == (0.0, 0.0) and rows["tight"]["minus_em200"] == (0.0, 0.0)
    assert rows["tight"]["energy"][0] > 0 and rows["tight"]["minus_ddim50"][0] > 0
    assert rows["ddim@50"]["minus_em200"][0] < 0
    np.testing.assert_allclose(metric_check.nearest_centre_msd(tight, centres),
                               np.mean(np.min(((tight[:, None] - centres[None]) ** 2).sum(-1), 1)))
    assert metric_check.nearest_centre_msd(tight, centres) < metric_check.nearest_centre_msd(held, centres)


def test_fid_reference_is_the_training_split():
    from papers.dpm_solver import experiment, train_lib
    cfg = configs.get_config("smoke,data.name=digits,eval.n_fid=100000")
    real = experiment.fid_reference_images(cfg)
    np.testing.assert_array_equal(real, train_lib.load_images("digits", "", "train"))


def test_unet_forward_shape():
    from papers.dpm_solver import models
    net = models.UNetEps(ch=8, ch_mult=(1, 2), num_res_blocks=1, attn_resolutions=(4,), dropout=0.0)
    x = jax.ShapeDtypeStruct((2, 8, 8, 1), jnp.float32)
    t = jax.ShapeDtypeStruct((2,), jnp.float32)
    params = jax.eval_shape(net.init, jax.random.PRNGKey(0), x, t)     # traces, no compilation
    assert jax.eval_shape(net.apply, params, x, t).shape == x.shape


def test_configs_parse_and_reject_unknown_keys():
    for v in ("smoke", "small", "paper"):
        assert configs.get_config(v).variant == v
    with pytest.raises(ValueError):
        configs.get_config("small,eval.nope=1")


def test_smoke_train_resume_eval(tmp_path):
    from common import metrics
    from papers.dpm_solver import experiment
    cfg = configs.get_config("smoke")
    wd = str(tmp_path / "run")
    state1 = experiment.train(cfg, wd)
    assert os.path.isdir(os.path.join(wd, "checkpoints", str(cfg.train.num_steps)))
    n_records = len(metrics.read_metrics(wd))
    state2 = experiment.train(cfg, wd)          # resumes at the last step: no repeated work
    assert len(metrics.read_metrics(wd)) == n_records
    assert int(state2.step) == cfg.train.num_steps
    jax.tree.map(np.testing.assert_array_equal, state1.ema, state2.ema)
    losses = [r["loss"] for r in metrics.read_metrics(wd)]
    assert losses[-1] < losses[0]
    record = experiment.evaluate(cfg, wd)
    saved = claims_lib.read_eval(wd)
    names = [c["name"] for c in saved["claims"]]
    assert names == ["1a-error-at-12-NFE", "1b-convergence-orders", "1c-sample-quality-at-12-NFE",
                     "2-learned-model-quality", "3-adaptive"]
    assert record["all_passed"] == saved["all_passed"]
    assert os.path.exists(os.path.join(wd, "nfe_vs_error_exact.png"))
    assert os.path.exists(os.path.join(wd, "nfe_vs_quality_learned.png"))
