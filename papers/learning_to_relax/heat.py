"""The paper's heat-equation sequence: Crank-Nicolson steps of a 2-D heat equation with a time-varying
diffusion coefficient (the later version of the paper; official script ``scripts/h2d.m`` with
``utils/Heat2D.m`` and ``utils/bump.m``).

    u_t = kappa(t) (u_xx + u_yy) + f(t, x)   on [0, 1]^2, u = 0 on the boundary, u(0, x) = bump(x; (.5, .5), .25)

* kappa(t) = max(0.1 sin(2 pi t), -10 sin(2 pi t)): slow diffusion on half of every period, fast on the other.
* f(t, x) = 32 bump(x; (.5 + cos(16 pi t)/4, .5 + sin(16 pi t)/4), .125): a bump moving on a circle,
  bump(x; c, r) = exp(1 - 1 / (1 - min(1, |x - c|^2 / r^2))).
* Space: nx intervals per side (dx = 1/nx), the (nx - 1)^2 interior points in row-major order
  (point (i, j) at (i dx, j dx), i, j = 1..nx-1), 5-point Laplacian Lap_h = -delsq / dx^2.
* Time: T steps of dt = stoptime / T. Step k (t_k = k dt, midpoint h = t_k + dt/2) solves the
  Crank-Nicolson system

      A_k u_{k+1} = b_k,   A_k = I - (kappa(h) dt / 2) Lap_h,   b_k = (I + (kappa(h) dt / 2) Lap_h) u_k + dt f(h, x).

With s_k = kappa(h) dt / (2 dx^2) this is A_k = s_k (delsq + c_k I), c_k = 1 / s_k: a shifted grid Laplacian
on an m x m grid, m = nx - 1. SOR iterates and counts are unchanged when A and b are scaled by the same
s_k > 0 (the sweep divides by the diagonal; the stopping rule is a ratio of residual norms), so the
experiment's solvers run on (delsq + c_k I) x = b_k / s_k, started (as in h2d.m) from the previous state
x_0 = u_k. Each u_{k+1} is the exact solution of its system (sine-transform diagonalisation), so the
sequence does not depend on the solver or on omega.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class HeatSequence(NamedTuple):
    """The T systems of a heat-equation run on an m x m interior grid (m = nx - 1).

    kappa: [T] diffusion coefficient at the start of each step (the ChebCB context in h2d.m);
    shifts: [T] c_k of (delsq + c_k I); scales: [T] s_k (A_k = s_k (delsq + c_k I));
    rhs: [T, m*m] b_k / s_k; x0: [T, m*m] the state u_k each solve starts from.
    """
    kappa: np.ndarray
    shifts: np.ndarray
    scales: np.ndarray
    rhs: np.ndarray
    x0: np.ndarray


def diffusion_coefficient(t):
    """kappa(t) = max(0.1 sin(2 pi t), -10 sin(2 pi t)) (h2d.m)."""
    s = np.sin(2.0 * np.pi * np.asarray(t, np.float64))
    return np.maximum(0.1 * s, -10.0 * s)


def degenerate_steps(T: int, stoptime: float = 5.0) -> np.ndarray:
    """Steps whose midpoint (k + 1/2) dt is (to 1e-9) a zero of sin(2 pi t): kappa = 0 there, A_k = I is no
    shifted Laplacian. Empty for the paper's T = 5000, stoptime = 5 (and any even T with stoptime = 5)."""
    half = (np.arange(T) + 0.5) * stoptime / T
    return np.flatnonzero(np.abs(np.sin(2.0 * np.pi * half)) < 1e-9)


def bump(points: np.ndarray, center, radius: float) -> np.ndarray:
    """exp(1 - 1 / (1 - min(1, |x - c|^2 / r^2))): 1 at the centre, 0 outside the disc (utils/bump.m).

    points: [n, 2] -> [n]."""
    q = np.minimum(1.0, np.sum((points - np.asarray(center)) ** 2, axis=-1) / radius ** 2)
    out = np.zeros_like(q)
    inside = q < 1.0
    out[inside] = np.exp(1.0 - 1.0 / (1.0 - q[inside]))
    return out


def forcing(t: float, points: np.ndarray) -> np.ndarray:
    """f(t, x) = 32 bump(x; (.5 + cos(16 pi t)/4, .5 + sin(16 pi t)/4), .125) (h2d.m); [n]."""
    center = (0.5 + np.cos(16.0 * np.pi * t) / 4.0, 0.5 + np.sin(16.0 * np.pi * t) / 4.0)
    return 32.0 * bump(points, center, 0.125)


def grid_points(nx: int) -> np.ndarray:
    """[(nx-1)^2, 2] coordinates (i dx, j dx) of the interior points, row-major (Heat2D.m ``ijdx``)."""
    ij = np.arange(1, nx) / nx
    I, J = np.meshgrid(ij, ij, indexing="ij")
    return np.stack([I.ravel(), J.ravel()], axis=1)


def sine_basis(m: int) -> np.ndarray:
    """Orthonormal, symmetric S [m, m] with S (tridiag(-1, 2, -1)) S = diag(2 - 2 cos(pi k / (m+1)))."""
    k = np.arange(1, m + 1)
    return np.sqrt(2.0 / (m + 1)) * np.sin(np.pi * np.outer(k, k) / (m + 1))


def laplacian_eigenvalues(m: int) -> np.ndarray:
    """[m, m] eigenvalues lambda_p + lambda_q of delsq in the sine basis (lambda_k = 2 - 2 cos(pi k/(m+1)))."""
    lam = 2.0 - 2.0 * np.cos(np.pi * np.arange(1, m + 1) / (m + 1))
    return lam[:, None] + lam[None, :]


def apply_delsq(u: np.ndarray, m: int) -> np.ndarray:
    """delsq u (4 on the diagonal, -1 per grid neighbour, zero boundary) for u [m*m] row-major."""
    g = np.pad(u.reshape(m, m), 1)
    return (4.0 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:]).ravel()


def simulate(nx: int, T: int, stoptime: float = 5.0) -> HeatSequence:
    """Runs the T Crank-Nicolson steps of the heat equation above and returns their systems."""
    m, dx, dt = nx - 1, 1.0 / nx, stoptime / T
    points = grid_points(nx)
    S, lam = sine_basis(m), laplacian_eigenvalues(m)
    u = bump(points, (0.5, 0.5), 0.25)
    n = m * m
    kappa, shifts, scales = np.zeros(T), np.zeros(T), np.zeros(T)
    rhs, x0 = np.zeros((T, n)), np.zeros((T, n))
    bad = degenerate_steps(T, stoptime)
    if len(bad):
        raise ValueError(f"steps {bad[:5].tolist()}: kappa(t + dt/2) = 0 (A = I, no shifted Laplacian); choose T "
                         "so that no step midpoint is a zero of sin(2 pi t)")
    for k in range(T):
        t = k * dt
        half = t + 0.5 * dt
        s = diffusion_coefficient(half) * dt / (2.0 * dx * dx)
        b = u - s * apply_delsq(u, m) + dt * forcing(half, points)          # (I + (kappa dt/2) Lap_h) u + dt f
        kappa[k], shifts[k], scales[k] = diffusion_coefficient(t), 1.0 / s, s
        rhs[k], x0[k] = b / s, u
        u = (S @ ((S @ b.reshape(m, m) @ S) / (1.0 + s * lam)) @ S).ravel()   # A_k^{-1} b_k
    return HeatSequence(kappa, shifts, scales, rhs, x0)


def context_interval(T: int, stoptime: float = 5.0) -> tuple[float, float]:
    """[min, max] of kappa over linspace(0, stoptime, T): the ChebCB context interval of h2d.m."""
    k = diffusion_coefficient(np.linspace(0.0, stoptime, T))
    return float(k.min()), float(k.max())
