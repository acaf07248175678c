"""Tests of common/pde.py (ETDRK4) against closed forms: heat decay, advection, logistic Allen-Cahn ODE."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from common import pde


@pytest.fixture(autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


def test_heat_equation_decays_exactly():
    n, length, nu, t = 64, 2 * np.pi, 0.3, 0.7
    x = pde.grid(n, length)
    u0 = np.sin(x) + 0.5 * np.cos(3 * x) + 0.2
    lin, nonlin = pde.linear_terms(n, length, {2: nu})
    ts, us = pde.solve(u0, lin, nonlin, dt=0.07, num_steps=10, save_every=5)
    exact = np.exp(-nu * t) * np.sin(x) + 0.5 * np.exp(-9 * nu * t) * np.cos(3 * x) + 0.2
    assert ts.shape == (3,) and us.shape == (3, n)
    np.testing.assert_allclose(float(ts[-1]), t, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(us[-1]), exact, atol=1e-12)


def test_linear_advection_translates_exactly():
    n, length, c, t = 32, 2.0, 0.8, 0.5
    x = pde.grid(n, length, x0=-1.0)
    f = lambda y: np.exp(np.sin(np.pi * y))  # noqa: E731  smooth, periodic on [-1, 1)
    lin, nonlin = pde.linear_terms(n, length, {1: -c})
    _, us = pde.solve(f(x), lin, nonlin, dt=0.1, num_steps=5)
    # the spectral interpolant of f is translated exactly; compare with it at resolution n
    fine = pde.grid(512, length, x0=-1.0)
    ref = np.fft.irfft(np.fft.rfft(f(fine))[: n // 2 + 1] * n / 512, n=n)  # same modes (Nyquist aside)
    shifted = np.fft.irfft(np.fft.rfft(ref) * np.exp(-1j * pde.wavenumbers(n, length) * c * t), n=n)
    np.testing.assert_allclose(np.asarray(us[-1]), shifted, atol=1e-12)
    assert np.max(np.abs(np.asarray(us[-1]) - f(x - c * t))) < 1e-6  # and it is the true translate


def _logistic_ac(u0, t, a=5.0):
    """Closed form of u' = a u - a u^3 (a spatially constant Allen-Cahn solution)."""
    e = np.exp(2 * a * t)
    return u0 * np.exp(a * t) / np.sqrt(1.0 + u0 ** 2 * (e - 1.0))


def test_fourth_order_convergence_on_nonlinear_allen_cahn():
    n, length, t_end, u0 = 16, 2.0, 1.0, 0.1
    lin, nonlin = pde.allen_cahn_terms(n, length, nu=1e-4, a=5.0)
    errors = []
    for steps in (40, 80, 160):
        _, us = pde.solve(np.full(n, u0), lin, nonlin, dt=t_end / steps, num_steps=steps, save_every=steps)
        errors.append(np.max(np.abs(np.asarray(us[-1]) - _logistic_ac(u0, t_end))))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[-1] < 1e-8, errors
    assert np.all(orders > 3.7) and np.all(orders < 4.4), (errors, orders)


def test_contour_coefficients_match_direct_formulas_where_stable():
    h = 0.1
    lin = np.array([-50.0, -3.0, 2.0, 10.0])
    c = pde.etdrk4_coefficients(lin, h)
    z = h * lin
    direct_f1 = h * (-4 - z + np.exp(z) * (4 - 3 * z + z ** 2)) / z ** 3
    direct_q = h * (np.exp(z / 2) - 1) / z
    np.testing.assert_allclose(np.asarray(c.f1).real, direct_f1, rtol=1e-9)
    np.testing.assert_allclose(np.asarray(c.Q).real, direct_q, rtol=1e-12)
    # and at z -> 0 the contour mean gives the limits f1 = f2*... = h/6, Q = h/2
    c0 = pde.etdrk4_coefficients(np.array([0.0]), h)
    np.testing.assert_allclose([float(c0.f1.real[0]), float(c0.f2.real[0]), float(c0.f3.real[0]), float(c0.Q.real[0])],
                               [h / 6, h / 6, h / 6, h / 2], rtol=1e-10)


def test_kuramoto_sivashinsky_conserves_mean_and_matches_finer_step():
    n, length = 32, 2.0
    x = pde.grid(n, length, x0=-1.0)
    lin, nonlin = pde.kuramoto_sivashinsky_terms(n, length, alpha=5.0, beta=0.5, gamma=0.005)
    u0 = -np.sin(np.pi * x) + 0.1
    _, a = pde.solve(u0, lin, nonlin, dt=1e-3, num_steps=200, save_every=200)
    _, b = pde.solve(u0, lin, nonlin, dt=5e-4, num_steps=400, save_every=400)
    assert abs(float(jnp.mean(a[-1])) - 0.1) < 1e-12      # the mode k = 0 is conserved
    assert float(jnp.max(jnp.abs(a[-1] - b[-1]))) < 2e-5   # ~1.5e-5 at order 4 (measured at n = 64)
    assert float(jnp.max(jnp.abs(a[-1] - a[0]))) > 0.1      # it evolved
