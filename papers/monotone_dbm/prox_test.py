"""The generalised softmax against the Lambert-W closed form, softmax at alpha = 1, and its derivative."""
import jax
import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import lambertw

from papers.monotone_dbm import prox


def _reference(y, alpha):
    """prox by the closed form z = a/(1-a) W0((1-a)/a exp((u - a)/a)), u = y + nu, nu by brentq."""
    def phi(u):
        if alpha == 1.0:
            return np.exp(u - 1.0)
        return alpha / (1 - alpha) * np.real(lambertw((1 - alpha) / alpha * np.exp((u - alpha) / alpha)))
    out = []
    for row in y:
        nu = brentq(lambda nu: phi(row + nu).sum() - 1, -row.max() - 60 / alpha, 2 - row.max(), xtol=1e-15)
        out.append(phi(row + nu))
    return np.array(out)


@pytest.mark.parametrize("alpha", [0.125, 0.5, 1.0])
def test_matches_closed_form_and_is_the_prox(alpha):
    y = np.random.default_rng(0).normal(size=(6, 5)) * np.array([[0.1], [1], [3], [10], [20], [0.5]])
    with jax.enable_x64(True):
        z = np.asarray(prox.generalized_softmax(jax.numpy.asarray(y), alpha))
        np.testing.assert_allclose(z, _reference(y, alpha), atol=1e-12)
        # optimality: moving towards other points of the simplex never lowers the prox objective
        obj = np.asarray(prox.prox_objective(z, y, alpha))
        for v in np.random.default_rng(1).dirichlet(np.ones(5), size=20):
            assert np.all(np.asarray(prox.prox_objective(0.999 * z + 0.001 * v, y, alpha)) >= obj - 1e-12)


def test_softmax_at_alpha_one_and_float32_accuracy():
    y = np.random.default_rng(1).normal(size=(4, 20)) * 5
    np.testing.assert_allclose(np.asarray(prox.generalized_softmax(y.astype(np.float32), 1.0)),
                               np.asarray(jax.nn.softmax(y.astype(np.float32))), atol=1e-7)
    z32 = np.asarray(prox.generalized_softmax(y.astype(np.float32), 0.125))
    np.testing.assert_allclose(z32, _reference(y, 0.125), atol=5e-6)


@pytest.mark.parametrize("alpha", [0.3, 1.0])
def test_jvp_matches_finite_differences(alpha):
    rng = np.random.default_rng(2)
    with jax.enable_x64(True):
        y, v = jax.numpy.asarray(rng.normal(size=(3, 4)) * 2), jax.numpy.asarray(rng.normal(size=(3, 4)))
        f = jax.jit(lambda y: prox.generalized_softmax(y, alpha))       # traced once, not per eager call
        _, jv = jax.jvp(f, (y,), (v,))
        eps = 1e-6
        fd = (f(y + eps * v) - f(y - eps * v)) / (2 * eps)
        np.testing.assert_allclose(np.asarray(jv), np.asarray(fd), atol=1e-8)
        # reverse mode is the transpose of the (symmetric) Jacobian
        _, vjp = jax.vjp(f, y)
        np.testing.assert_allclose(np.asarray(vjp(v)[0]), np.asarray(jv), atol=1e-12)
