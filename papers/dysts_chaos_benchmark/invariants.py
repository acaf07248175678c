"""Invariants of chaotic attractors computed from the equations (paper Sec. 3, "Metadata").

* :func:`lyapunov_spectra` — Benettin's algorithm with QR re-orthonormalisation: the tangent map of one
  RK4 step is applied to an orthonormal frame Q [D, D] with ``jax.jvp`` (one JVP per column, vmapped),
  Q is re-orthonormalised by QR after every output interval and the exponents are the time averages of
  log|diag R| (Benettin et al. 1980; Eq. lambda_i = lim 1/t sum_k log |R_k,ii|). Fused over systems.
  :func:`lyapunov_estimates` also returns the spectra of the window's two halves, and
  :func:`lyapunov_convergence` turns them into per-system convergence diagnostics.
* :func:`kaplan_yorke_dimension` — D_KY = k + sum_{i<=k} lambda_i / |lambda_{k+1}|, k the largest index
  with a non-negative partial sum.
* :func:`correlation_dimension` — Grassberger-Procaccia: slope of log C(r) vs log r in the scaling range.
* :func:`sample_entropy`, :func:`multiscale_entropy` — Costa et al. multiscale entropy: sample entropy
  (m=2, r=0.2 std) of the coarse-grained series at scales 1..S, averaged over scales.
"""
from __future__ import annotations

import functools
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from common import chaotic_systems as cs


def _tangent_step(g, h):
    """(x [D], Q [D, K]) -> (Phi(x), DPhi(x) Q) for one RK4 step Phi of dx/ds = g(x)."""
    def phi(x):
        return cs.rk4_step(g, x, h)

    def step(x, q):
        y, lin = jax.linearize(phi, x)
        return y, jax.vmap(lin, in_axes=1, out_axes=1)(q)
    return step


@functools.partial(jax.jit, static_argnames=("names", "n_intervals", "substeps", "pts_per_period",
                                             "transient_intervals"))
def _lyap_jit(names, ics, n_intervals, substeps, pts_per_period, transient_intervals):
    """Sums of log|R_ii| over the first and the second half of the averaging window, per system: a
    tuple of ([B, D_s], [B, D_s]). The first ``transient_intervals`` QR steps only align the frame."""
    subs = [cs.substeps_for(n, pts_per_period, substeps) for n in names]
    steps = [jax.vmap(_tangent_step(cs.vector_field(n), 1.0 / (pts_per_period * k))) for n, k in zip(names, subs)]
    half = n_intervals // 2

    def interval(carry, _):
        new = []
        for step, n_sub, (x, q, acc1, acc2, count) in zip(steps, subs, carry):
            def sub(c, _, step=step):
                return step(*c), None
            (x, q), _ = jax.lax.scan(sub, (x, q), None, length=n_sub)
            qn, r = jnp.linalg.qr(q)
            d = jnp.diagonal(r, axis1=-2, axis2=-1)
            # make the frame's orientation continuous (sign of R's diagonal) and accumulate log|R_ii|
            qn = qn * jnp.sign(d)[:, None, :]
            logs = jnp.log(jnp.abs(d))
            acc1 = acc1 + logs * ((count >= 0) & (count < half))
            acc2 = acc2 + logs * (count >= half)
            new.append((x, qn, acc1, acc2, count + 1))
        return tuple(new), None

    carry = []
    for x in ics:
        B, D = x.shape
        q = jnp.broadcast_to(jnp.eye(D, dtype=x.dtype), (B, D, D))
        zeros = jnp.zeros((B, D), x.dtype)
        carry.append((x, q, zeros, zeros, jnp.asarray(-transient_intervals)))
    carry, _ = jax.lax.scan(interval, tuple(carry), None, length=n_intervals + transient_intervals)
    return tuple((acc1, acc2) for (_, _, acc1, acc2, _) in carry)


def _descending(lam):
    return -np.sort(-np.asarray(lam, np.float64), axis=-1)


def lyapunov_estimates(names: Sequence[str], ics: Sequence, *, n_periods: float, pts_per_period: int = 10,
                       substeps: int = 20, transient_periods: float = 5.0) -> list[dict]:
    """Lyapunov spectra (per unit time, descending) of several systems, fused in one scan, with the
    spectra of the two halves of the averaging window (a convergence diagnostic).

    Args:
      names: system names; ics: one [B, D_s] array of initial conditions (on the attractor) per system.
      n_periods: averaging time in dominant periods; the frame is QR'd pts_per_period times per period
        with ``substeps`` RK4 steps in between (RK4 step = T / (pts_per_period * substeps)).
      transient_periods: periods spent aligning the frame before averaging.
    Returns:
      one dict per system with [B, D_s] arrays ``spectrum`` (whole window), ``first_half`` and
      ``second_half``, each sorted descending, and ``time`` (the averaging time, time units).
    """
    names = tuple(names)
    ics = tuple(jnp.asarray(x)[None] if jnp.asarray(x).ndim == 1 else jnp.asarray(x) for x in ics)
    n_int = int(round(n_periods * pts_per_period))
    if n_int < 2:
        raise ValueError(f"n_periods * pts_per_period = {n_periods * pts_per_period} must be at least 2")
    n_tr = int(round(transient_periods * pts_per_period))
    sums = _lyap_jit(names, ics, n_int, substeps, pts_per_period, n_tr)
    n1 = n_int // 2
    out = []
    for name, (s1, s2) in zip(names, sums):
        interval = cs.get_system(name).period / pts_per_period  # time between QR steps
        s1, s2 = np.asarray(s1, np.float64), np.asarray(s2, np.float64)
        out.append({"spectrum": _descending((s1 + s2) / (n_int * interval)),
                    "first_half": _descending(s1 / (n1 * interval)),
                    "second_half": _descending(s2 / ((n_int - n1) * interval)),
                    "time": n_int * interval})
    return out


def lyapunov_spectra(names: Sequence[str], ics: Sequence, **kwargs) -> list[np.ndarray]:
    """The ``spectrum`` entry of :func:`lyapunov_estimates` (same arguments): [B, D_s] per system."""
    return [e["spectrum"] for e in lyapunov_estimates(names, ics, **kwargs)]


def lyapunov_convergence(spectra, first_half, second_half, tol: float = 0.1) -> dict:
    """Convergence diagnostics of one system's lambda_1 from B initial conditions.

    spectra, first_half, second_half: [B, D] (descending). With lam = mean over ICs of the spectrum:
      * half_change = |lam_1(second half) - lam_1(first half)| / |lam_1|   (not yet stationary if large)
      * zero_ratio  = min_i |lam_i| / |lam_1|: a flow has one exact zero exponent (the flow direction);
                      its estimate errs like the finite-time bias of lam_1, and a ratio near 1 means no
                      exponent is resolved above zero (lam_1 is the zero exponent: regular motion);
      * ic_spread   = (max - min over ICs of lam_1) / |lam_1|   (0 for one IC).
    converged = lam_1 > 0 and all three <= tol. Returns floats and a bool."""
    spectra, first_half, second_half = (np.atleast_2d(np.asarray(a, np.float64))
                                        for a in (spectra, first_half, second_half))
    lam = spectra.mean(0)
    scale = abs(lam[0]) if lam[0] != 0 else np.inf
    d = {"half_change": abs(second_half[:, 0].mean() - first_half[:, 0].mean()) / scale,
         "zero_ratio": float(np.min(np.abs(lam))) / scale,
         "ic_spread": float(np.ptp(spectra[:, 0])) / scale}
    d = {k: float(v) for k, v in d.items()}
    d["converged"] = bool(is_converged(lam[0], np.array(list(d.values())), tol))
    return d


def is_converged(lam1, diagnostics, tol: float = 0.1):
    """lam1 > 0 and every diagnostic of :func:`lyapunov_convergence` finite and <= tol.

    lam1 [...], diagnostics [K, ...] -> bool [...]."""
    diagnostics = np.asarray(diagnostics, np.float64)
    ok = np.all(np.isfinite(diagnostics) & (diagnostics <= tol), axis=0)
    return (np.asarray(lam1) > 0) & ok


def kaplan_yorke_dimension(spectrum) -> float:
    """D_KY = k + (lambda_1 + ... + lambda_k) / |lambda_{k+1}| with k the largest j whose partial sum >= 0."""
    lam = -np.sort(-np.asarray(spectrum, np.float64))
    c = np.cumsum(lam)
    if c[0] < 0:
        return 0.0
    k = int(np.max(np.nonzero(c >= 0)[0])) + 1  # number of exponents with non-negative partial sum
    if k == len(lam):
        return float(len(lam))
    return float(k + c[k - 1] / abs(lam[k]))


def correlation_integral(x, radii, theiler: int = 0):
    """C(r) = fraction of pairs (i<j, |i-j|>theiler) with ||x_i - x_j|| < r. x [N, D] -> [R]."""
    x = jnp.asarray(x)
    d = jnp.sqrt(jnp.maximum(jnp.sum((x[:, None, :] - x[None, :, :]) ** 2, -1), 0.0))
    n = x.shape[0]
    i, j = jnp.triu_indices(n, k=theiler + 1)
    dij = d[i, j]
    return jax.vmap(lambda r: jnp.mean(dij < r))(jnp.asarray(radii, x.dtype))


def correlation_dimension(x, *, n_points: int = 1500, q_low: float = 1e-3, q_high: float = 3e-2,
                          n_radii: int = 12, theiler: int = 10) -> float:
    """Grassberger-Procaccia dimension of a trajectory x [N, D] (standardised first).

    Uses n_points evenly strided samples; fits the slope of log C(r) against log r for radii between the
    q_low and q_high quantiles of the pair distances (the small-r scaling range)."""
    x = np.asarray(x, np.float64)
    x = (x - x.mean(0)) / (x.std(0) + 1e-12)
    stride = max(1, x.shape[0] // n_points)
    x = x[::stride][:n_points]
    d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    iu = np.triu_indices(len(x), k=theiler + 1)
    dij = np.sort(d[iu])
    r_lo, r_hi = np.quantile(dij, q_low), np.quantile(dij, q_high)
    radii = np.geomspace(r_lo, r_hi, n_radii)
    c = np.searchsorted(dij, radii) / len(dij)
    slope = np.polyfit(np.log(radii), np.log(c), 1)[0]
    return float(slope)


def sample_entropy(u, m: int = 2, r: float | None = None) -> float:
    """SampEn(m, r) = -log(A / B): B = # pairs of length-m templates within r (Chebyshev), A the same for
    length m+1 (templates i != j, both from the first N-m points). r defaults to 0.2 std(u). numpy, O(N^2)."""
    u = np.asarray(u, np.float64)
    r = 0.2 * u.std() if r is None else r
    n = u.shape[0]
    t = u[np.arange(n - m)[:, None] + np.arange(m + 1)[None, :]]  # [n-m, m+1]
    dm = np.zeros((n - m, n - m))
    for k in range(m):
        dm = np.maximum(dm, np.abs(t[:, None, k] - t[None, :, k]))
    dm1 = np.maximum(dm, np.abs(t[:, None, m] - t[None, :, m]))
    off = ~np.eye(n - m, dtype=bool)
    b = np.sum((dm <= r) & off)
    a = np.sum((dm1 <= r) & off)
    return float(-np.log(a / b))


def multiscale_entropy(u, scales: int = 5, m: int = 2, max_len: int = 1500) -> float:
    """Mean over scales 1..S of SampEn of the coarse-grained series (non-overlapping means), r = 0.2 std(u)."""
    u = np.asarray(u, np.float64)
    r = 0.2 * u.std()
    vals = []
    for s in range(1, scales + 1):
        n = len(u) // s
        cg = u[:n * s].reshape(n, s).mean(1)[:max_len]
        vals.append(sample_entropy(cg, m=m, r=r))
    return float(np.mean(vals))
