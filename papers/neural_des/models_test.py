"""Models and data: CDE solvers agree, clipping makes maps 1-Lipschitz, OU sampler matches closed form."""
import jax
import jax.numpy as jnp
import numpy as np

from papers.neural_des import data, models


def test_ncde_scan_solver_equals_diffrax_solver():
    values, _ = data.irregular_spirals(jax.random.PRNGKey(0), 2, 0.5, length=16)
    p = models.init_ncde(jax.random.PRNGKey(1), 3, 4, 8, 1, 1)
    a = jax.jit(jax.vmap(lambda v: models.ncde_final_state(p, v, "hermite", 1, "scan")))(values)
    b = jax.jit(jax.vmap(lambda v: models.ncde_final_state(p, v, "hermite", 1, "diffrax")))(values)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_rectilinear_control_passes_through_observations_time_first():
    values, _ = data.irregular_spirals(jax.random.PRNGKey(0), 2, 0.5, length=16)   # same shapes: one compile
    v = values[0]
    path, s1 = models.control_path(v, "rectilinear")
    assert s1 == 2 * (v.shape[0] - 1)
    np.testing.assert_allclose(path.evaluate(2.0), v[1], rtol=1e-6)          # knot 2 = observation 1
    mid = path.evaluate(1.0)                                                   # time moved, values not yet
    np.testing.assert_allclose(mid, jnp.concatenate([v[1, :1], v[0, 1:]]), rtol=1e-6)


def test_clip_lipschitz_bounds_infinity_operator_norm():
    layers = models.init_mlp(jax.random.PRNGKey(0), (5, 7, 3))
    layers = [{"w": 10 * l["w"], "b": l["b"]} for l in layers]
    for l in models.clip_lipschitz(layers):
        # ||x W||_inf <= ||x||_inf * max_j sum_i |W_ij| <= 1 after clipping to 1/fan_in.
        assert float(jnp.max(jnp.sum(jnp.abs(l["w"]), axis=0))) <= 1.0 + 1e-6


def test_drop_points_keeps_order_and_fraction():
    times, xy, labels = data.spirals(jax.random.PRNGKey(0), 2, length=16)
    values = data.drop_points(jax.random.PRNGKey(1), times, xy, 0.25)
    assert values.shape == (2, 12, 3)
    assert bool(jnp.all(jnp.diff(values[..., 0], axis=1) > 0))
    assert set(np.unique(np.asarray(labels)).tolist()) <= {0, 1}


def test_ou_sampler_matches_closed_form_marginals():
    ts, ys = data.time_dependent_ou(jax.random.PRNGKey(0), 20000, 16, 15.0, 0.02, 0.1, 0.4)
    m, v = data.ou_marginals(ts, 0.0, 1.0 / 3.0, 0.02, 0.1, 0.4)
    np.testing.assert_allclose(jnp.mean(ys[..., 0], 0), m, atol=0.03)
    np.testing.assert_allclose(jnp.var(ys[..., 0], 0), v, rtol=0.06)


def test_character_trajectories_loader_raises_clear_error(tmp_path):
    try:
        data.load_character_trajectories(str(tmp_path), 0.3)
    except data.DataNotFoundError as e:
        assert "CharacterTrajectories" in str(e)
    else:
        raise AssertionError("expected DataNotFoundError")


def test_augmented_neural_ode_diffrax_equals_our_reversible_heun():
    """neural_ode_solve (diffrax.ReversibleHeun on the augmented state) equals our reversible Heun scan."""
    from papers.neural_des import reversible as rv
    p = models.init_neural_ode(jax.random.PRNGKey(0), 2, 8, 1, augment=2)
    z0 = jnp.array([0.3, -0.7])
    ts = jnp.linspace(0.0, 1.0, 9)
    a = models.neural_ode_solve(p, z0, ts, augment=2, solver="reversible_heun")
    vf = rv.ode_field(lambda q, t, z: models.neural_ode_field(t, z, q))
    b = rv.reversible_heun_scan(vf, p, models.augment_state(z0, 2), ts, rv.ode_increments(ts))
    assert a.shape == (9, 4)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
