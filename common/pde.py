"""Spectral ETDRK4 for 1-D periodic semilinear PDEs  u_t = L u + N(u)  (pure JAX, float64-capable).

The scheme is the fourth-order exponential time-differencing Runge-Kutta method of Cox & Matthews
(J. Comput. Phys. 176, 2002) with the coefficients evaluated by the contour integrals of Kassam &
Trefethen ("Fourth-order time-stepping for stiff PDEs", SIAM J. Sci. Comput. 26, 2005, Eqs. (2.5) and
the contour-mean formula of Sec. 3), which removes the cancellation of the phi-functions at small h*L.

Space is Fourier-collocated on ``n`` equispaced points of a period ``length``; the state is carried as
its real FFT ``v = rfft(u)`` of shape ``[n // 2 + 1]``. ``L`` is a diagonal symbol (one complex number per
wavenumber) and ``N`` maps ``v`` to the transform of the nonlinear term. Time stepping is a ``lax.scan``
over the saved times of ``lax.fori_loop``s over the steps between them (one compilation for any dt).

    x = grid(n, length, x0)                       # [n]
    lin, nonlin = allen_cahn_terms(n, length, nu=1e-4, a=5.0)
    ts, us = solve(u0(x), lin, nonlin, dt=5e-4, num_steps=2000, save_every=10)   # us: [201, n]

Ready-made terms: :func:`allen_cahn_terms` (u_t = nu u_xx + a u - a u^3) and
:func:`kuramoto_sivashinsky_terms` (u_t + alpha u u_x + beta u_xx + gamma u_xxxx = 0), plus
:func:`linear_terms` for constant-coefficient linear equations (heat, advection) with N = 0.
Use float64 (``with jax.enable_x64(True):``) for reference solutions.
"""
from __future__ import annotations

import functools
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

NonlinearFn = Callable[[jax.Array], jax.Array]


def grid(n: int, length: float, x0: float = 0.0) -> np.ndarray:
    """The ``n`` collocation points ``x0 + length * j / n``, j = 0..n-1 (the right end is excluded)."""
    return x0 + length * np.arange(n) / n


def wavenumbers(n: int, length: float) -> np.ndarray:
    """Angular wavenumbers ``2 pi k / length`` of ``rfft`` output, k = 0..n//2, shape ``[n // 2 + 1]``."""
    return 2.0 * np.pi / length * np.arange(n // 2 + 1)


class ETDRK4Coefficients(NamedTuple):
    """Per-wavenumber coefficients of one ETDRK4 step of size h (Kassam & Trefethen 2005, Eq. (2.5))."""
    E: jax.Array    # exp(h L)
    E2: jax.Array   # exp(h L / 2)
    Q: jax.Array    # h * phi-type coefficient of the half steps
    f1: jax.Array   # alpha in Cox & Matthews
    f2: jax.Array   # beta
    f3: jax.Array   # gamma


@functools.partial(jax.jit, static_argnames=("num_contour",))
def etdrk4_coefficients(lin: jax.Array, h: float, num_contour: int = 32, radius: float = 1.0) -> ETDRK4Coefficients:
    """ETDRK4 coefficients for the diagonal symbol ``lin`` ([K], real or complex) and step ``h``.

    Each phi-function of z = h L is replaced by its mean over ``num_contour`` points on a circle of
    ``radius`` around z (Kassam & Trefethen 2005, Sec. 3), exact up to rounding for analytic integrands.
    """
    lin = jnp.asarray(lin)
    cdtype = jnp.result_type(lin.dtype, jnp.complex64)
    lin = lin.astype(cdtype)
    j = jnp.arange(1, num_contour + 1)
    roots = radius * jnp.exp(2j * jnp.pi * (j - 0.5) / num_contour).astype(cdtype)   # [M] on the full circle
    z = h * lin
    LR = z[:, None] + roots[None, :]                                                    # [K, M]
    eLR = jnp.exp(LR)
    Q = h * jnp.mean((jnp.exp(LR / 2) - 1.0) / LR, axis=1)
    f1 = h * jnp.mean((-4.0 - LR + eLR * (4.0 - 3.0 * LR + LR ** 2)) / LR ** 3, axis=1)
    f2 = h * jnp.mean((2.0 + LR + eLR * (-2.0 + LR)) / LR ** 3, axis=1)
    f3 = h * jnp.mean((-4.0 - 3.0 * LR - LR ** 2 + eLR * (4.0 - LR)) / LR ** 3, axis=1)
    return ETDRK4Coefficients(jnp.exp(z), jnp.exp(z / 2), Q, f1, f2, f3)


def etdrk4_step(v: jax.Array, c: ETDRK4Coefficients, nonlinear: NonlinearFn) -> jax.Array:
    """One ETDRK4 step of the spectral state ``v`` ([K] complex), Cox & Matthews (2002) Eq. (26)-(29)."""
    Nv = nonlinear(v)
    a = c.E2 * v + c.Q * Nv
    Na = nonlinear(a)
    b = c.E2 * v + c.Q * Na
    Nb = nonlinear(b)
    cc = c.E2 * a + c.Q * (2.0 * Nb - Nv)
    Nc = nonlinear(cc)
    return c.E * v + Nv * c.f1 + 2.0 * (Na + Nb) * c.f2 + Nc * c.f3


def solve(u0, lin: jax.Array, nonlinear: NonlinearFn, *, dt: float, num_steps: int, save_every: int = 1,
          num_contour: int = 32) -> tuple[jax.Array, jax.Array]:
    """Integrates u_t = L u + N(u) from u0 ([n], real) for ``num_steps`` steps of size ``dt``.

    Returns ``(ts, us)``: the saved times ``[num_steps // save_every + 1]`` (t = 0 first) and the real
    solutions ``[num_steps // save_every + 1, n]``. ``num_steps`` must be a multiple of ``save_every``.
    """
    if num_steps % save_every:
        raise ValueError(f"num_steps={num_steps} is not a multiple of save_every={save_every}")
    return _solve(jnp.asarray(u0), jnp.asarray(lin), dt, jnp.int32(save_every), nonlinear=nonlinear,
                  num_saves=num_steps // save_every, num_contour=num_contour)


@functools.partial(jax.jit, static_argnames=("nonlinear", "num_saves", "num_contour"))
def _solve(u0, lin, dt, save_every, *, nonlinear, num_saves, num_contour):
    """One compilation per (nonlinear, num_saves, shapes): dt and save_every are traced."""
    n = u0.shape[-1]
    coeffs = etdrk4_coefficients(lin, dt, num_contour)
    v0 = jnp.fft.rfft(u0).astype(coeffs.E.dtype)

    def outer(v, _):
        v = jax.lax.fori_loop(0, save_every, lambda _, w: etdrk4_step(w, coeffs, nonlinear), v)
        return v, v

    _, vs = jax.lax.scan(outer, v0, None, length=num_saves)
    vs = jnp.concatenate([v0[None], vs], axis=0)
    us = jnp.fft.irfft(vs, n=n, axis=-1)
    ts = dt * save_every * jnp.arange(vs.shape[0], dtype=us.dtype)
    return ts, us


def dealias_mask(n: int) -> np.ndarray:
    """The 2/3-rule mask over ``rfft`` wavenumbers: 1 for k < n/3, 0 above ([n // 2 + 1])."""
    return (np.arange(n // 2 + 1) < n / 3).astype(np.float64)


def linear_terms(n: int, length: float, coefficients: dict[int, complex]) -> tuple[np.ndarray, NonlinearFn]:
    """Symbol of  u_t = sum_m c_m d^m u / dx^m  (``coefficients = {m: c_m}``) and N = 0.

    Heat: ``{2: nu}`` (exact decay exp(-nu k^2 t)); advection u_t + c u_x = 0: ``{1: -c}``.
    """
    ik = 1j * wavenumbers(n, length)
    lin = sum(c * ik ** m for m, c in coefficients.items())
    return np.asarray(lin, np.complex128), lambda v: jnp.zeros_like(v)


def allen_cahn_terms(n: int, length: float, nu: float = 1e-4, a: float = 5.0) -> tuple[np.ndarray, NonlinearFn]:
    """u_t = nu u_xx + a u - a u^3:  L = -nu k^2 + a,  N(u) = -a u^3 (computed on the grid)."""
    k = wavenumbers(n, length)
    lin = -nu * k ** 2 + a

    def nonlinear(v):
        u = jnp.fft.irfft(v, n=n)
        return (-a * jnp.fft.rfft(u ** 3)).astype(v.dtype)

    return lin, nonlinear


def kuramoto_sivashinsky_terms(n: int, length: float, alpha: float, beta: float, gamma: float,
                               dealias: bool = True) -> tuple[np.ndarray, NonlinearFn]:
    """u_t + alpha u u_x + beta u_xx + gamma u_xxxx = 0:  L = beta k^2 - gamma k^4,  N = -(alpha/2) (u^2)_x."""
    k = wavenumbers(n, length)
    lin = beta * k ** 2 - gamma * k ** 4
    mask = dealias_mask(n) if dealias else np.ones(n // 2 + 1)
    g = -0.5 * alpha * 1j * k * mask

    def nonlinear(v):
        u = jnp.fft.irfft(v, n=n)
        return (g * jnp.fft.rfft(u ** 2)).astype(v.dtype)

    return lin, nonlinear
