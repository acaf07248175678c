"""Fast tests of the chaotic-systems database and its batched integration."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from common import chaotic_systems as cs


def test_database_entries_are_consistent():
    assert len(cs.SYSTEMS) >= 30
    names = cs.list_systems()
    all_dx = jax.jit(lambda: [cs.SYSTEMS[n].rhs(jnp.asarray(cs.SYSTEMS[n].ic, jnp.float32), cs.SYSTEMS[n].params)
                              for n in names])()
    for name, dx in zip(names, all_dx):
        s = cs.SYSTEMS[name]
        assert dx.shape == (s.dim,), name
        assert np.all(np.isfinite(np.asarray(dx))), name
        assert len(s.mean) == len(s.std) == s.dim and s.period > 0 and s.lyapunov_max > 0, name
    with pytest.raises(KeyError, match="known"):
        cs.get_system("NotASystem")


def test_lorenz96_rhs_matches_index_formula():
    s = cs.get_system("Lorenz96")
    x = np.array([0.3, -1.2, 2.0, 0.7])
    want = np.array([(x[(i + 1) % 4] - x[i - 2]) * x[i - 1] - x[i] + s.params["f"] for i in range(4)])
    np.testing.assert_allclose(np.asarray(s.rhs(jnp.asarray(x), s.params)), want, rtol=1e-6)


def test_rk4_is_fourth_order_on_a_linear_flow():
    with jax.enable_x64(True):
        A = jnp.array([[-0.1, 2.0], [-2.0, -0.1]])
        x0 = jnp.array([1.0, 0.5])
        exact = scipy.linalg.expm(np.asarray(A)) @ np.asarray(x0)
        errs = []
        for n in (20, 40):
            x = x0
            for _ in range(n):
                x = cs.rk4_step(lambda v: A @ v, x, 1.0 / n)
            errs.append(np.abs(np.asarray(x) - exact).max())
        assert 12 < errs[0] / errs[1] < 20  # ~2^4


def test_integration_matches_scipy_and_batches_agree():
    import scipy.integrate
    with jax.enable_x64(True):
        s = cs.get_system("Lorenz")
        ics = jnp.stack([jnp.asarray(s.ic), jnp.asarray(s.ic) + 0.3])
        r = cs.get_system("HyperRossler")
        fused = cs.integrate_systems(("Lorenz", "HyperRossler"), (ics, jnp.asarray(r.ic)[None]), 21,
                                     pts_per_period=20, substeps=20)  # one period
        tr = fused[0]
        assert tr.shape == (2, 21, 3) and fused[1].shape == (1, 21, 4)
        # an independent integrator (scipy DOP853, tight tolerances) on the same time grid
        for b in range(2):
            sol = scipy.integrate.solve_ivp(lambda t, y: np.asarray(s.rhs(y, s.params)), (0, s.period),
                                            np.asarray(ics[b]), method="DOP853", rtol=1e-11, atol=1e-11,
                                            t_eval=np.linspace(0, s.period, 21))
            np.testing.assert_allclose(np.asarray(tr[b]), sol.y.T, rtol=1e-5, atol=1e-5)
        # the fused multi-system scan equals a separate call
        sep = cs.integrate("HyperRossler", jnp.asarray(r.ic)[None], 21, pts_per_period=20, substeps=20)
        np.testing.assert_allclose(np.asarray(fused[1]), np.asarray(sep), rtol=1e-12)


def test_parameter_vmap_matches_separate_parameter_sets():
    with jax.enable_x64(True):
        s = cs.get_system("Lorenz")
        rhos = jnp.array([28.0, 35.0])
        p = {"sigma": jnp.full(2, s.params["sigma"]), "beta": jnp.full(2, s.params["beta"]), "rho": rhos}
        ics = jnp.tile(jnp.asarray(s.ic), (2, 1))
        both = cs.integrate("Lorenz", ics, 11, pts_per_period=10, substeps=10, params=p)
        p35 = dict(s.params, rho=35.0)
        single = cs.integrate("Lorenz", ics[:1], 11, pts_per_period=10, substeps=10, params=p35)
        np.testing.assert_allclose(np.asarray(both[1]), np.asarray(single[0]), rtol=1e-12)
        assert not np.allclose(np.asarray(both[0]), np.asarray(both[1]))


def test_noise_options_and_standardisation():
    s = cs.get_system("Rossler")
    ic = jnp.asarray(s.ic, jnp.float32)[None]
    clean = cs.integrate("Rossler", ic, 100, pts_per_period=20, substeps=5)
    noisy = cs.integrate("Rossler", ic, 100, pts_per_period=20, substeps=5, observation_noise=0.1,
                         key=jax.random.PRNGKey(3))
    z = np.asarray((noisy - clean) / jnp.asarray(s.std))
    assert abs(z.std() - 0.1) < 0.015 and abs(z.mean()) < 0.015
    dyn = cs.integrate("Rossler", ic, 100, pts_per_period=20, substeps=5, dynamical_noise=0.05,
                       key=jax.random.PRNGKey(3))
    assert np.all(np.isfinite(np.asarray(dyn))) and not np.allclose(np.asarray(dyn), np.asarray(clean))
    zero = cs.integrate("Rossler", ic, 100, pts_per_period=20, substeps=5, dynamical_noise=0.0,
                        key=jax.random.PRNGKey(3))
    np.testing.assert_array_equal(np.asarray(zero), np.asarray(clean))
    std = cs.integrate("Rossler", ic, 100, pts_per_period=20, substeps=5, standardize=True)
    np.testing.assert_allclose(np.asarray(std), np.asarray((clean - jnp.asarray(s.mean)) / jnp.asarray(s.std)),
                               rtol=1e-5, atol=1e-5)


def test_dominant_period_and_resampling():
    dt = 0.01
    t = np.arange(4000) * dt
    x = np.stack([np.sin(2 * np.pi * t / 1.7), np.sin(2 * np.pi * t / 1.7 + 1) + 0.3 * np.cos(2 * np.pi * t / 0.4)], 1)
    assert abs(cs.dominant_period(x, dt) - 1.7) < 0.02
    lin = np.stack([2.0 * t + 1.0, -t], 1)
    rs = np.asarray(cs.resample(lin, dt, period=1.7, pts_per_period=10, n_points=50))
    tn = np.arange(50) * 0.17
    np.testing.assert_allclose(rs, np.stack([2.0 * tn + 1.0, -tn], 1), rtol=1e-5, atol=1e-5)


def test_sampled_initial_conditions_lie_on_the_attractor():
    ics = cs.sample_initial_conditions(["Lorenz", "Rossler"], jax.random.PRNGKey(0), 3, spinup_periods=5)
    for name, x in zip(["Lorenz", "Rossler"], ics):
        s = cs.get_system(name)
        z = (np.asarray(x) - np.array(s.mean)) / np.array(s.std)
        assert x.shape == (3, 3) and np.abs(z).max() < 4
