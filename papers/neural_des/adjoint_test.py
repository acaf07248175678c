"""Continuous adjoint and the seminorm: properties and agreement with closed form / diffrax."""
import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from papers.neural_des import adjoint


def test_seminorm_ignores_parameter_channels():
    z, a_z = np.ones(3, np.float32), 2 * np.ones(3, np.float32)
    y1 = (z, a_z, {"w": np.zeros((4, 4), np.float32)})
    y2 = (z, a_z, {"w": 100 * np.ones((4, 4), np.float32)})
    norms = jax.jit(lambda y: (adjoint.state_rms_seminorm(y), adjoint.full_rms_norm(y)))   # one program
    (semi1, full1), (semi2, full2) = norms(y1), norms(y2)
    assert float(semi1) == float(semi2)
    np.testing.assert_allclose(semi1, np.sqrt(2.5), rtol=1e-6)
    assert float(full2) > 10 * float(full1)
    flat = np.concatenate([np.ravel(x) for x in jax.tree.leaves(y2)])
    np.testing.assert_allclose(full2, np.sqrt(np.mean(flat ** 2)), rtol=1e-6)


def test_backsolve_gradient_matches_closed_form_both_norms():
    """Linear ODE dz/dt = A z, L = |z(T)|^2/2: adjoint gradients (full and seminorm) vs expm closed form."""
    with jax.enable_x64(True):
        a = 0.4 * np.random.default_rng(0).normal(size=(2, 2))
        z0 = np.array([1.0, -0.5])
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
            out = fn(a, z0, np.float64(weight))
            np.testing.assert_allclose(out["grad_theta"], ga_exact, atol=1e-6)
            np.testing.assert_allclose(out["grad_z0"], gz_exact, atol=1e-6)
            steps[name] = int(out["backward_steps"])
        assert steps["seminorm"] > 0
        assert steps["seminorm"] <= steps["full"]
