"""The dynamical systems of the study and their snapshot data (numpy, float64).

* Duffing oscillator  x1' = x2,  x2' = -alpha x2 + x1 - x1^3  (alpha = 0: undamped), flow map over
  dt = 0.3 by classical RK4 (``substeps`` steps), M = n_ic x n_steps snapshot pairs.
* Lorenz-63 from the chaotic-systems database ``common.chaotic_systems`` (its equations, parameters
  (sigma, rho, beta) = (10, 28, 2.667) and attractor initial condition; RK4 steps of that module), one
  trajectory after a burn-in.
* Irrational rotation of the circle seen in a smooth coordinate change h(u) = u + b sin(2 pi u) / (2 pi)
  (b < 1): F = h o R_omega o h^{-1}. Its Koopman operator (on L^2 of the invariant measure h_* Leb) is
  unitary with eigenvalues exactly exp(2 pi i k omega), k in Z; the Fourier dictionary in theta does not
  contain the eigenfunctions exp(2 pi i k h^{-1}(theta)), so residuals are genuine.
* The adversarial torus maps (our stand-in for the paper's counterexample): for a sampling resolution
  Q, F_Q = h_Q o R_omega o h_Q^{-1} with the shear h_Q(x, y) = (x, y + s_Q(x)),
  s_Q(x) = a sin^2(pi Q x) sin^2(pi Q (x - omega_1)). F_Q is a smooth, area-preserving map conjugate to
  the rotation, so its Koopman eigenvalues are exp(2 pi i k.omega) and the eigenfunction of
  exp(2 pi i omega_2) is exp(2 pi i (y - s_Q(x))). On the data grid x_i = i/Q both s_Q(x_i) and
  s_Q(x_i + omega_1) vanish, so F_Q's snapshots coincide with the rotation's: no algorithm fed that
  data can tell the systems apart, yet their eigenfunctions differ by O(a). The rotation's eigenpair
  (exp(2 pi i omega_2), exp(2 pi i y)), which is what a learner fed that data recovers, has closed-form
  eigenfunction error and true residual with respect to F_Q (:func:`rotation_pair_error`,
  :func:`rotation_pair_true_residual`); both depend on Q only through Q omega_1 mod 1.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from common import chaotic_systems

GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


def rk4(f, x, dt: float, substeps: int):
    """x(t + dt) for x' = f(x) by ``substeps`` classical RK4 steps; x [M, d]."""
    h = dt / substeps
    for _ in range(substeps):
        k1 = f(x)
        k2 = f(x + 0.5 * h * k1)
        k3 = f(x + 0.5 * h * k2)
        k4 = f(x + h * k3)
        x = x + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)
    return x


def duffing_field(alpha: float):
    def f(x):
        return np.stack([x[:, 1], -alpha * x[:, 1] + x[:, 0] - x[:, 0] ** 3], 1)
    return f


def duffing_snapshots(n_ic: int, n_steps: int, dt: float, alpha: float, box: float, seed: int,
                      substeps: int = 20, stream: int = 1):
    """(X, Y) [n_ic * n_steps, 2]: initial conditions uniform in [-box, box]^2, n_steps steps each (pairs
    (x_k, x_{k+1}), k = 0..n_steps-1, of every trajectory). ``stream`` selects an independent data set."""
    rng = np.random.default_rng([seed, stream])
    x = rng.uniform(-box, box, size=(n_ic, 2))
    xs, ys = [], []
    f = duffing_field(alpha)
    for _ in range(n_steps):
        y = rk4(f, x, dt, substeps)
        xs.append(x)
        ys.append(y)
        x = y
    return np.concatenate(xs), np.concatenate(ys)


def lorenz_snapshots(m: int, dt: float, burn_in: int, seed: int, substeps: int = 10):
    """(X, Y) [m, 3] along one Lorenz-63 trajectory sampled every dt (time units) after ``burn_in`` samples.

    The system (equations, parameters, attractor initial condition) is ``common.chaotic_systems``'
    "Lorenz"; the start is that initial condition plus a seed-dependent N(0, 1) offset, integrated in
    float64 by that module's RK4 step in standardised time (``substeps`` steps of dt / (period substeps)
    per sample)."""
    system = chaotic_systems.get_system("Lorenz")
    rng = np.random.default_rng([seed, 2])
    x0 = np.asarray(system.ic) + rng.normal(size=3)
    h = dt / (system.period * substeps)
    with jax.enable_x64(True):
        field = chaotic_systems.vector_field(system)

        def sample(x, _):
            x = jax.lax.fori_loop(0, substeps, lambda _, y: chaotic_systems.rk4_step(field, y, h), x)
            return x, x

        _, traj = jax.lax.scan(sample, jnp.asarray(x0, jnp.float64), None, length=burn_in + m + 1)
        traj = np.asarray(traj)[burn_in:]
    return traj[:-1], traj[1:]


# ----------------------------------------------------------------------------- circle rotation

def circle_h(u, b):
    return np.mod(u + b * np.sin(2 * np.pi * u) / (2 * np.pi), 1.0)


def rotation_snapshots(m: int, omega: float, b: float):
    """(theta, F(theta)) [m] for F = h o R_omega o h^{-1}, theta = h(u_j), u_j = j/m (an exact-to-rounding
    quadrature rule for the invariant measure h_* Leb on analytic observables)."""
    u = np.arange(m) / m
    return circle_h(u, b), circle_h(u + omega, b)


def rotation_eigenvalues(omega: float, kmax: int) -> np.ndarray:
    k = np.arange(-kmax, kmax + 1)
    return np.exp(2j * np.pi * k * omega)


# ----------------------------------------------------------------------------- adversarial torus maps

def shear(x, Q: int, a: float, omega1: float):
    """s_Q(x) = a sin^2(pi Q x) sin^2(pi Q (x - omega_1))."""
    return a * np.sin(np.pi * Q * x) ** 2 * np.sin(np.pi * Q * (x - omega1)) ** 2


def adversarial_map(xy, Q: int, a: float, omega):
    """F_Q(x, y) = (x + w1, y + w2 + s_Q(x + w1) - s_Q(x)) mod 1 = h_Q o R_omega o h_Q^{-1}; xy [M, 2]."""
    x, y = xy[:, 0], xy[:, 1]
    xn = x + omega[0]
    yn = y + omega[1] + shear(xn, Q, a, omega[0]) - shear(x, Q, a, omega[0])
    return np.mod(np.stack([xn, yn], 1), 1.0)


def rotation_map(xy, omega):
    return np.mod(xy + np.asarray(omega)[None, :], 1.0)


def adversarial_eigenfunction(xy, Q: int, a: float, omega):
    """The eigenfunction exp(2 pi i (y - s_Q(x))) of F_Q for the eigenvalue exp(2 pi i omega_2)."""
    return np.exp(2j * np.pi * (xy[:, 1] - shear(xy[:, 0], Q, a, omega[0])))


def shear_phase_mean(Q: int, a: float, omega1: float, n_quad: int = 4096) -> complex:
    """int_0^1 exp(-2 pi i s_Q(x)) dx by the periodic midpoint rule (spectrally accurate: the integrand is
    smooth and 1-periodic)."""
    x = (np.arange(n_quad) + 0.5) / n_quad
    return complex(np.mean(np.exp(-2j * np.pi * shear(x, Q, a, omega1))))


def rotation_pair_error(Q: int, a: float, omega1: float, n_quad: int = 4096) -> float:
    """Eigenfunction error (relative L2 after the best complex scaling) of the rotation's exp(2 pi i y)
    to F_Q's exp(2 pi i (y - s_Q(x))): sqrt(1 - |int exp(-2 pi i s_Q(x)) dx|^2)."""
    return float(np.sqrt(max(0.0, 1.0 - abs(shear_phase_mean(Q, a, omega1, n_quad)) ** 2)))


def rotation_pair_true_residual(Q: int, a: float, omega, n_quad: int = 4096) -> float:
    """True residual ||phi o F_Q - lambda phi|| / ||phi|| of the rotation's pair (lambda, phi) =
    (exp(2 pi i omega_2), exp(2 pi i y)) under F_Q: ||exp(2 pi i (s_Q(x + omega_1) - s_Q(x))) - 1||_{L2(dx)}."""
    x = (np.arange(n_quad) + 0.5) / n_quad
    jump = shear(x + omega[0], Q, a, omega[0]) - shear(x, Q, a, omega[0])
    return float(np.sqrt(np.mean(np.abs(np.exp(2j * np.pi * jump) - 1.0) ** 2)))


def grid_points(Q: int, P: int) -> np.ndarray:
    """The data grid x_i = i/Q, y_l = l/P: [Q P, 2]."""
    x, y = np.meshgrid(np.arange(Q) / Q, np.arange(P) / P, indexing="ij")
    return np.stack([x.ravel(), y.ravel()], 1)


def torus_eigenvalues(omega, kmax: int) -> np.ndarray:
    k1, k2 = np.meshgrid(np.arange(-kmax, kmax + 1), np.arange(-kmax, kmax + 1), indexing="ij")
    return np.exp(2j * np.pi * (k1.ravel() * omega[0] + k2.ravel() * omega[1]))
