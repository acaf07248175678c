"""Reversible Heun: algebraic reversibility, exact gradients, convergence to closed forms.

Each test runs one or two compiled programs (XLA compilation is most of the time of these tests); the linear-ODE
programs are the ones the smoke config's claim 1 runs.  The forward solver is compared with
``diffrax.ReversibleHeun`` in models_test (augmented neural ODE).
"""
import jax
import jax.numpy as jnp
import numpy as np

from papers.neural_des import checks
from papers.neural_des import reversible as rv


def _tanh_field(p, t, z):
    """A nonlinear CDE vector field g(z) = tanh(W z + b) reshaped to [d, m]."""
    return jnp.tanh(p["w"] @ z + p["b"]).reshape(z.shape[0], -1)


@jax.jit
def _nonlinear_cde_gradients(p, z0, ts, dxs):
    loss = lambda solve: lambda p, z0, dxs: jnp.sum(jnp.sin(solve(_tanh_field, p, z0, ts, dxs)))
    g_rev = jax.grad(loss(rv.reversible_heun), (0, 1, 2))(p, z0, dxs)
    g_dto = jax.grad(loss(rv.reversible_heun_scan), (0, 1, 2))(p, z0, dxs)
    return g_rev, g_dto, rv.reconstruction_error(_tanh_field, p, z0, ts, dxs)


def test_exact_backward_equals_dto_nonlinear_cde_float64():
    """Gradients w.r.t. params, z0 and the control increments agree with autodiff through the scan."""
    rng = np.random.default_rng(0)
    d, m, n = 3, 2, 30
    p = {"w": rng.normal(size=(d * m, d)), "b": rng.normal(size=(d * m,))}
    z0, dxs = rng.normal(size=(d,)), 0.2 * rng.normal(size=(n, m))
    with jax.enable_x64(True):
        g_rev, g_dto, rec = _nonlinear_cde_gradients(p, z0, np.linspace(0.0, 1.0, n + 1), dxs)
        for a, b in zip(jax.tree.leaves(g_rev), jax.tree.leaves(g_dto)):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        assert float(rec) < 1e-12
        # Sanity: the gradient is not trivially zero.
        assert float(np.max(np.abs(g_rev[2]))) > 1e-3


def test_linear_ode_gradient_exact_and_second_order_to_closed_form():
    """Linear ODE (the smoke config's claim-1 problem, 20 steps, and 80): exact backward = DTO to round-off,
    and the gradient approaches the expm closed form at second order (~16x smaller error at 4x the steps)."""
    with jax.enable_x64(True):
        a, x0 = checks.claim1_ode_problem(np.uint32(1), 3)
        ga, gx = checks.linear_ode_closed_form(a, x0, 1.0)
        errs = []
        for steps in (20, 80):
            g_rev, g_dto, rec = checks.linear_ode_reversible_check(a, x0, np.linspace(0.0, 1.0, steps + 1))
            for u, v in zip(g_rev, g_dto):
                np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-13)
            assert float(rec) < 1e-12
            errs.append(max(float(np.max(np.abs(np.asarray(g_rev[0]) - ga))),
                            float(np.max(np.abs(np.asarray(g_rev[1]) - gx)))))
        assert errs[1] < errs[0] / 8.0      # second order: ~16x smaller at 4x the steps


@jax.jit
def _geometric_sde_errors(a, b, x0, dw_fine):
    """Mean over Brownian paths of |x(T) - exact| of our reversible Heun at 16 and 256 steps; dw_fine [P, 512, 2]."""
    paths, fine = dw_fine.shape[:2]
    vf = rv.sde_field(lambda p, t, z: p[0] * z, lambda p, t, z: jnp.diag(p[1] * z))
    exact = x0 * jnp.exp(a + b * jnp.sum(dw_fine, axis=1))
    errs = []
    for n in (16, 256):
        ts = jnp.linspace(0.0, 1.0, n + 1, dtype=jnp.float64)
        dws = dw_fine.reshape(paths, n, fine // n, 2).sum(axis=2)          # the same Brownian paths, coarser
        xT = jax.vmap(lambda d: rv.reversible_heun_scan(vf, (a, b), x0, ts, rv.sde_increments(ts, d))[-1])(dws)
        errs.append(jnp.mean(jnp.abs(xT - exact)))
    return jnp.stack(errs)


def test_sde_reversible_heun_converges_to_stratonovich_closed_form():
    """Geometric Stratonovich SDE: x(T) = x0 exp(aT + b W_T); the strong error (mean over 64 Brownian paths)
    falls ~16x from 16 to 256 steps (order 1 for this commutative noise)."""
    rng = np.random.default_rng(2)      # the distributions of checks.linear_sde_problem
    a, b, x0 = 0.3 * rng.normal(size=2), 0.2 + 0.3 * rng.uniform(size=2), 0.5 + rng.uniform(size=2)
    with jax.enable_x64(True):
        errs = np.asarray(_geometric_sde_errors(a, b, x0, rng.normal(size=(64, 512, 2)) / np.sqrt(512)))
        assert errs[1] < errs[0] / 8.0 and errs[1] < 1e-2
