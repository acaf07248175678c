"""The generalised softmax against the Lambert-W closed form, softmax at alpha = 1, and its derivative."""
import jax
import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import lambertw

from papers.monotone_dbm import prox

# jitted: run op by op, the Newton/Halley loops dispatch dozens of small XLA programs
_prox = jax.jit(prox.generalized_softmax, static_argnums=1)
_objective = jax.jit(prox.prox_objective, static_argnums=2)


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
        z = np.asarray(_prox(jax.numpy.asarray(y), alpha))
        np.testing.assert_allclose(z, _reference(y, alpha), atol=1e-12)
        # optimality: moving towards other points of the simplex never lowers the prox objective
        obj = np.asarray(_objective(z, y, alpha))
        v = np.random.default_rng(1).dirichlet(np.ones(5), size=20)[:, None, :]       # [20, 1, 5]
        moved = np.asarray(_objective(0.999 * z[None] + 0.001 * v, y[None], alpha))   # [20, 6]
        assert np.all(moved >= obj[None] - 1e-12)


def test_softmax_at_alpha_one_and_float32_accuracy():
    y = np.random.default_rng(1).normal(size=(4, 20)) * 5
    y32 = y.astype(np.float32)
    np.testing.assert_allclose(np.asarray(_prox(y32, 1.0)),
                               np.exp(y32.astype(np.float64)) / np.exp(y32.astype(np.float64)).sum(-1, keepdims=True),
                               atol=1e-7)
    z32 = np.asarray(_prox(y.astype(np.float32), 0.125))
    assert z32.dtype == np.float32
    np.testing.assert_allclose(z32, _reference(y, 0.125), atol=5e-6)


@pytest.mark.parametrize("alpha", [0.3, 1.0])
def test_jvp_matches_finite_differences(alpha):
    rng = np.random.default_rng(2)
    with jax.enable_x64(True):
        y, v = jax.numpy.asarray(rng.normal(size=(3, 4)) * 2), jax.numpy.asarray(rng.normal(size=(3, 4)))
        eps = 1e-6

        @jax.jit                                                         # one compiled program per alpha
        def derivatives(y, v):
            f = lambda y: prox.generalized_softmax(y, alpha)
            _, jv = jax.jvp(f, (y,), (v,))
            fd = (f(y + eps * v) - f(y - eps * v)) / (2 * eps)
            return jv, fd, jax.vjp(f, y)[1](v)[0]

        jv, fd, vjp = jax.device_get(derivatives(y, v))
        np.testing.assert_allclose(jv, fd, atol=1e-8)
        # reverse mode is the transpose of the (symmetric) Jacobian
        np.testing.assert_allclose(vjp, jv, atol=1e-12)
