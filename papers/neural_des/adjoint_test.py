"""Continuous adjoint and the seminorm: properties and agreement with closed form / diffrax."""
import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from papers.neural_des import adjoint


def test_seminorm_ignores_parameter_channels():
    z, a_z = jnp.ones(3), 2 * jnp.ones(3)
    y1 = (z, a_z, {"w": jnp.zeros((4, 4))})
    y2 = (z, a_z, {"w": 100 * jnp.ones((4, 4))})
    assert float(adjoint.state_rms_seminorm(y1)) == float(adjoint.state_rms_seminorm(y2))
    np.testing.assert_allclose(adjoint.state_rms_seminorm(y1), np.sqrt(2.5), rtol=1e-6)
    assert float(adjoint.full_rms_norm(y2)) > 10 * float(adjoint.full_rms_norm(y1))
    flat = np.concatenate([np.ravel(x) for x in jax.tree.leaves(y2)])
    np.testing.assert_allclose(adjoint.full_rms_norm(y2), np.sqrt(np.mean(flat ** 2)), rtol=1e-6)


def test_backsolve_gradient_matches_closed_form_both_norms():
    """Linear ODE dz/dt = A z, L = |z(T)|^2/2: adjoint gradients (full and seminorm) vs expm closed form."""
    with jax.enable_x64(True):
        a = 0.4 * jax.random.normal(jax.random.PRNGKey(0), (2, 2), jnp.float64)
        z0 = jnp.array([1.0, -0.5], jnp.float64)
        f = lambda t, z, th: th @ z
        loss = lambda z: 0.5 * jnp.sum(z ** 2)
        zT = scipy.linalg.expm(np.asarray(a)) @ np.asarray(z0)
        gz_exact = scipy.linalg.expm(np.asarray(a).T) @ zT
        ga_exact = np.zeros((2, 2))
        for i in range(2):
            for j in range(2):
                e = np.zeros((2, 2))
                e[i, j] = 1.0
                ga_exact[i, j] = zT @ scipy.linalg.expm_frechet(np.asarray(a), e)[1] @ np.asarray(z0)
        # One compiled solve; the norm enters as the traced parameter-channel weight (1 = full, 0 = seminorm).
        fn = jax.jit(lambda th, z, w: adjoint.backsolve_gradient(f, loss, th, z, 1.0, norm=w, rtol=1e-9, atol=1e-9))
        steps = {}
        for name, weight in adjoint.NORM_WEIGHTS.items():
            out = fn(a, z0, jnp.float64(weight))
            np.testing.assert_allclose(out["grad_theta"], ga_exact, atol=1e-6)
            np.testing.assert_allclose(out["grad_z0"], gz_exact, atol=1e-6)
            steps[name] = int(out["backward_steps"])
        assert steps["seminorm"] > 0
        assert steps["seminorm"] <= steps["full"]
