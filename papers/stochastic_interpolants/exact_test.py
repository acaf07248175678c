"""Unit tests of the interpolants, the exact mixture fields, the objectives, samplers and metrics."""
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common.data import make_mixture, mixture_2d
from papers.stochastic_interpolants import distances, exact, objectives, samplers
from papers.stochastic_interpolants.interpolants import Interpolant

TWO_SIDED = [Interpolant(p, g, a) for p, g, a in [("linear", "brownian", 1.0), ("linear", "sinesquared", 0.5),
                                                   ("trig", "brownian", 2.0), ("trig", "bsquared", 4.0),
                                                   ("encdec", "sinesquared", 1.0), ("linear", "zero", 1.0)]]
ONE_SIDED = [Interpolant("one_sided_linear", "zero"), Interpolant("one_sided_trig", "zero")]


def _mixtures(dtype):
    rho0 = make_mixture([[-1.0, 0.5], [1.5, -1.0]], [0.6, 0.9], weights=[0.4, 0.6], dtype=dtype)
    covs = jnp.asarray([[[0.5, 0.2], [0.2, 0.3]], [[0.4, -0.1], [-0.1, 0.6]], [[0.2, 0.0], [0.0, 0.2]]], dtype)
    from common.data import GaussianMixture
    rho1 = GaussianMixture(jnp.asarray([0.2, 0.5, 0.3], dtype), jnp.asarray([[2., 2.], [-2., 1.], [0., -2.]], dtype), covs)
    return rho0, rho1


def test_boundary_conditions_and_derivatives():
    with jax.enable_x64(True):
        ts = jnp.asarray([0.0, 1.0, 0.13, 0.41, 0.77], jnp.float64)
        for interp in TWO_SIDED + ONE_SIDED:
            @jax.jit
            def coeffs_and_grads(ts):
                grads = {n: jax.vmap(jax.grad(lambda u, n=n: interp.coefficients(u)[n]))(ts[2:])
                         for n in ("alpha", "beta", "gamma")}
                return interp.coefficients(ts), grads

            c, ad = jax.device_get(coeffs_and_grads(ts))
            np.testing.assert_allclose([c["alpha"][:2], c["beta"][:2], c["gamma"][:2]], [[1, 0], [0, 1], [0, 0]],
                                       atol=1e-12, err_msg=str(interp))
            for name in ("alpha", "beta", "gamma"):
                np.testing.assert_allclose(c["d" + name][2:], ad[name], rtol=1e-9, atol=1e-12, err_msg=f"{interp} {name}")
            np.testing.assert_allclose(c["ggdot"][2:], (c["gamma"] * c["dgamma"])[2:], rtol=1e-9, atol=1e-12)
            assert interp.one_sided or interp.gamma == "zero" or bool(np.all(c["gamma"][2:] > 0))


def _setup(interp, dtype):
    rho0, rho1 = _mixtures(dtype)
    if interp.one_sided:
        rho0 = exact.standard_normal(2, dtype)
    return rho0, rho1


def test_exact_fields_solve_the_transport_equation():
    """d_t log rho_t + div b + b . grad log rho_t = 0, with rho_t from common.data.GaussianMixture."""
    with jax.enable_x64(True):
        x = jax.random.normal(jax.random.PRNGKey(0), (6, 2), jnp.float64) * 2.0
        ts = jnp.asarray([0.2, 0.45, 0.8], jnp.float64)
        for interp in (TWO_SIDED[2],):
            rho0, rho1 = _setup(interp, jnp.float64)
            b_fn, s_fn = exact.make_exact_fields(interp, rho0, rho1)
            logp = lambda u, y: exact.marginal(rho0, rho1, interp.coefficients(u)).log_prob(y)

            @jax.jit
            def residuals(t):
                dlogp_dt = jax.vmap(lambda y: jax.grad(logp, 0)(t, y))(x)
                b, s = b_fn(t, x), s_fn(t, x)
                s_ref = exact.marginal(rho0, rho1, interp.coefficients(t)).score(x)
                return dlogp_dt + samplers.divergence(b_fn, t, x) + jnp.sum(b * s, -1), s - s_ref

            res, ds = jax.lax.map(residuals, ts)
            np.testing.assert_allclose(res, 0.0, atol=1e-8)
            np.testing.assert_allclose(ds, 0.0, atol=1e-9)


def test_one_sided_interpolant_is_score_based_diffusion():
    """One-sided x_t = alpha z + beta x1: rho_t = law of beta x1 + alpha z (common's noised mixture) and
    b is the diffusion probability flow (dbeta/beta) x + (dbeta alpha^2 / beta - dalpha alpha) s."""
    with jax.enable_x64(True):
        rho1 = mixture_2d("ring8", jnp.float64)
        x = jax.random.normal(jax.random.PRNGKey(1), (16, 2), jnp.float64) * 3
        for interp in ONE_SIDED[1:]:
            b_fn, s_fn = exact.make_exact_fields(interp, exact.standard_normal(2, jnp.float64), rho1)

            @jax.jit
            def gaps(t):
                c = interp.coefficients(t)
                s_ref = rho1.noised_score(x, c["beta"], c["alpha"])
                b_ref = c["dbeta"] / c["beta"] * x + (c["dbeta"] * c["alpha"] ** 2 / c["beta"] - c["dalpha"] * c["alpha"]) * s_ref
                return s_fn(t, x) - s_ref, b_fn(t, x) - b_ref, jnp.abs(s_ref).max()

            ds, db, scale = jax.lax.map(gaps, jnp.asarray([0.1, 0.5, 0.9]))
            assert np.all(scale > 0.1)
            np.testing.assert_allclose(ds, 0.0, atol=1e-9)
            np.testing.assert_allclose(db, 0.0, atol=1e-8)


def test_exact_fields_minimise_the_objectives():
    """L(f + c) - L(f) = |c|^2 (up to Monte Carlo error) for the exact b, s and eta = -sigma s."""
    shift = jnp.asarray([0.3, -0.2])
    for interp in (TWO_SIDED[0], ONE_SIDED[0]):
        rho0, rho1 = _setup(interp, jnp.float32)

        @jax.jit
        def gaps(key):
            groups, per = 8, 1000                          # t on 16 values: one field evaluation per value
            k = jax.random.split(key, 4)
            n = groups * per
            t = jnp.repeat(jnp.linspace(0.05, 0.95, groups), per)
            x0, x1, z = rho0.sample(k[1], n), rho1.sample(k[2], n), jax.random.normal(k[3], (n, 2))

            def grouped(which):
                def f(ti, xi):
                    out = jax.vmap(lambda tg, xg: exact.fields(rho0, rho1, interp.coefficients(tg[0]), xg)[which])(
                        ti.reshape(groups, per), xi.reshape(groups, per, 2))
                    return out.reshape(n, 2)
                return f

            fb, fs = grouped(0), grouped(1)
            fe = lambda ti, xi: -interp.noise_scale(ti)[:, None] * fs(ti, xi)
            out = []
            for loss, f in ((objectives.loss_b, fb), (objectives.loss_s, fs), (objectives.loss_eta, fe)):
                base = loss(f, interp, t, x0, x1, z)
                out.append(loss(lambda ti, xi: f(ti, xi) + shift, interp, t, x0, x1, z) - base)
            return jnp.stack(out)

        np.testing.assert_allclose(gaps(jax.random.PRNGKey(2)), jnp.sum(shift ** 2), atol=0.03)


def _moments(rho):
    mean = jnp.sum(rho.weights[:, None] * rho.means, 0)
    second = jnp.sum(rho.weights[:, None, None] * (rho.covs + rho.means[:, :, None] * rho.means[:, None, :]), 0)
    return mean, second - jnp.outer(mean, mean)


def test_backward_sde_with_exact_fields_maps_rho1_to_rho0_moments():
    interp = Interpolant("linear", "brownian", 1.0)
    rho0, rho1 = _mixtures(jnp.float32)
    b_fn, s_fn = exact.make_exact_fields(interp, rho0, rho1)
    n = 4000

    @jax.jit
    def backward(key):
        k = jax.random.split(key)
        y = samplers.sde_sample(b_fn, s_fn, rho1.sample(k[0], n), 1.0, k[1], 50, forward=False)
        return y.mean(0), jnp.cov(y.T)

    mean, cov = backward(jax.random.PRNGKey(4))
    (m0, c0), (m1, c1) = _moments(rho0), _moments(rho1)
    np.testing.assert_allclose(mean, m0, atol=0.1)
    np.testing.assert_allclose(cov, c0, atol=0.25)
    assert jnp.max(jnp.abs(m0 - m1)) > 0.3                    # the ends differ: the test is not trivial


def test_ode_likelihood_of_exact_flow_is_exact_log_density():
    interp = Interpolant("linear", "brownian", 1.0)
    rho0, rho1 = _mixtures(jnp.float32)
    b_fn, _ = exact.make_exact_fields(interp, rho0, rho1)

    @jax.jit
    def gap(key):
        x = rho1.sample(key, 8)
        return samplers.ode_log_likelihood(b_fn, rho0.log_prob, x, 40) - rho1.log_prob(x)

    np.testing.assert_allclose(gap(jax.random.PRNGKey(3)), 0.0, atol=0.02)


def test_sliced_w2_of_a_shift_and_binned_kl():
    rho = mixture_2d("pair")

    @jax.jit
    def draws(key):
        k = jax.random.split(key, 3)
        return jax.random.normal(k[0], (500, 2)), distances.directions(k[1], 64, 2), rho.sample(k[2], 20000)

    x, dirs, y = draws(jax.random.PRNGKey(0))
    c = jnp.asarray([0.7, -0.4])
    np.testing.assert_allclose(distances.sliced_w2(x, x + c, dirs), jnp.sqrt(jnp.mean((dirs @ c) ** 2)), rtol=1e-5)
    p = distances.bin_masses(jax.jit(rho.log_prob), -5, 5, 20)
    good, bad = distances.binned_kl(p, y, -5, 5), distances.binned_kl(p, y + 0.5, -5, 5)
    assert 0 <= good < 0.02 < bad
    far = jnp.full((2000, 2), 50.0)                    # 10% of the samples outside the box
    with_far = distances.binned_kl(p, jnp.concatenate([y, far]), -5, 5)
    assert distances.fraction_outside(jnp.concatenate([y, far]), -5, 5) == pytest.approx(2000 / 22000)
    np.testing.assert_allclose(with_far - good, np.log((22000 + 200) / (20000 + 200)), rtol=1e-5)


def test_invalid_gamma_scales_are_refused():
    for path, gamma, a in [("trig", "brownian", 4.5), ("trig", "sinesquared", 1.0), ("linear", "brownian", -1.0)]:
        with pytest.raises(ValueError, match="gamma"):
            Interpolant(path, gamma, a)
    c = Interpolant("trig", "bsquared", 15.0).coefficients(jnp.linspace(0.0, 1.0, 101))
    assert all(bool(jnp.all(jnp.isfinite(v))) for v in c.values())
