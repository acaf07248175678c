"""EDMD, residual DMD (ResDMD) and the verified-spectrum algorithm (pure numpy / scipy, float64).

Notation (the paper's Section on ResDMD, after Colbrook & Townsend): snapshot pairs y^(m) = F(x^(m)),
m = 1..M, quadrature weights w_m, a dictionary Psi = (psi_1..psi_N). Psi_X, Psi_Y are [M, N] with
rows Psi(x^(m)), Psi(y^(m)); W = diag(w).

  G = Psi_X^H W Psi_X,  A = Psi_X^H W Psi_Y,  L = Psi_Y^H W Psi_Y                 (Gram matrices)
  EDMD:   K = G^+ A,  eigenpairs K g = lambda g                                   (Galerkin matrix)
  res(lambda, g)^2 = g^H (L - lambda A^H - conj(lambda) A + |lambda|^2 G) g / g^H G g   (residual)
  res(z) = min_g res(z, g)                                                         (pseudospectrum)

A point z with res(z) <= eps lies in the eps-pseudospectrum of the Koopman operator (up to the
quadrature error of the data); for a normal (e.g. measure-preserving, unitary) Koopman operator,
dist(z, Sp(K)) <= res(z), which is the error bound the verified algorithm reports.

Numerics: we never form G^{-1}. The weighted data matrix sqrt(W) Psi_X = U S V^H is truncated at
rcond and the problem is written in the orthonormal coordinates c = S V^H g, in which
||sqrt(W) Psi_X g|| = ||c|| and sqrt(W) Psi_Y g = B c with B = sqrt(W) Psi_Y V S^{-1}. A thin QR of
[U, B] gives a [2r, 2r] triangular R, and res(z) = sigma_min(R[:, r:] - z R[:, :r]) exactly (the QR-
based stable residual); on large grids the cheaper min-eigenvalue form of the Hermitian matrix
H(z) = B^H B - z B^H U - conj(z) U^H B + |z|^2 I is used and the local minima re-evaluated by SVD.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import scipy.linalg
import scipy.optimize


# ----------------------------------------------------------------------------- dictionaries

def rbf_dictionary(centers: np.ndarray, width: float):
    """Gaussian RBFs psi_j(x) = exp(-||x - c_j||^2 / (2 width^2)). centers [N, d]; returns x [M, d] -> [M, N]."""
    centers = np.asarray(centers, np.float64)

    def psi(x):
        x = np.asarray(x, np.float64)
        d2 = (np.sum(x * x, 1)[:, None] - 2.0 * x @ centers.T + np.sum(centers * centers, 1)[None, :])
        return np.exp(-np.maximum(d2, 0.0) / (2.0 * width ** 2))
    return psi


def kmeans_centers(x: np.ndarray, n: int, seed: int, iters: int = 30) -> np.ndarray:
    """k-means (Lloyd, k-means++-style random init from the data) centres of x [M, d] -> [n, d]."""
    rng = np.random.default_rng(seed)
    x = np.asarray(x, np.float64)
    c = x[rng.choice(len(x), n, replace=False)].copy()
    for _ in range(iters):
        d2 = np.sum(x * x, 1)[:, None] - 2.0 * x @ c.T + np.sum(c * c, 1)[None, :]
        lab = np.argmin(d2, 1)
        counts = np.bincount(lab, minlength=n)
        sums = np.zeros_like(c)
        np.add.at(sums, lab, x)
        nz = counts > 0
        c[nz] = sums[nz] / counts[nz, None]
    return c


def fourier_dictionary_1d(kmax: int):
    """psi_k(theta) = exp(2 pi i k theta), k = -kmax..kmax. theta [M] -> [M, 2 kmax + 1]."""
    ks = np.arange(-kmax, kmax + 1)

    def psi(theta):
        return np.exp(2j * np.pi * np.asarray(theta, np.float64)[:, None] * ks[None, :])
    return psi


def fourier_dictionary_2d(kmax: int):
    """Tensor Fourier modes exp(2 pi i (k1 x + k2 y)), |k1|, |k2| <= kmax. xy [M, 2] -> [M, (2kmax+1)^2]."""
    k1, k2 = np.meshgrid(np.arange(-kmax, kmax + 1), np.arange(-kmax, kmax + 1), indexing="ij")
    ks = np.stack([k1.ravel(), k2.ravel()], 1).astype(np.float64)

    def psi(xy):
        return np.exp(2j * np.pi * np.asarray(xy, np.float64) @ ks.T)
    psi.modes = ks
    return psi


def polynomial_dictionary(degree: int, scale: float = 1.0):
    """Monomials (x1/scale)^a (x2/scale)^b, a + b <= degree, of 2-D points xy [M, 2] -> [M, N]."""
    exps = [(a, t - a) for t in range(degree + 1) for a in range(t + 1)]

    def psi(xy):
        u = np.asarray(xy, np.float64) / scale
        return np.stack([u[:, 0] ** a * u[:, 1] ** b for a, b in exps], 1)
    return psi


# ----------------------------------------------------------------------------- EDMD / ResDMD

@dataclasses.dataclass
class ResDMD:
    """The data in orthonormal coordinates: U [M, r] (orthonormal columns), B [M, r], R [2r, 2r]
    (triangular factor of [U, B]), and the map coef = V S^{-1} from c to dictionary coefficients g."""
    U: np.ndarray
    B: np.ndarray
    R: np.ndarray
    coef: np.ndarray

    @property
    def rank(self) -> int:
        return self.U.shape[1]

    def hermitian_parts(self):
        """(B^H B, U^H B): the pieces of H(z) = B^H B - z (U^H B)^H - conj(z) U^H B + |z|^2 I."""
        R = self.R
        r = self.rank
        R1, R2 = R[:, :r], R[:, r:]
        return R2.conj().T @ R2, R1.conj().T @ R2


def fit(psi_x: np.ndarray, psi_y: np.ndarray, weights: np.ndarray | None = None, rcond: float = 1e-10) -> ResDMD:
    """Builds the ResDMD data (Gram matrices in factored form). psi_x, psi_y [M, N]; weights [M] (default 1/M)."""
    M = psi_x.shape[0]
    w = np.full(M, 1.0 / M) if weights is None else np.asarray(weights, np.float64)
    sw = np.sqrt(w)[:, None]
    X, Y = sw * psi_x, sw * psi_y
    U, s, Vh = np.linalg.svd(X, full_matrices=False)
    keep = s > rcond * s[0]
    U, s, Vh = U[:, keep], s[keep], Vh[keep]
    coef = Vh.conj().T / s[None, :]
    B = Y @ coef
    _, R = np.linalg.qr(np.concatenate([U, B], 1).astype(np.complex128))
    return ResDMD(U=U, B=B, R=R, coef=coef)


def koopman_matrix(d: ResDMD) -> np.ndarray:
    """EDMD matrix in orthonormal coordinates, K = U^H B (= G^{-1/2} A G^{-1/2} up to the truncation)."""
    return d.U.conj().T @ d.B


def edmd(d: ResDMD):
    """EDMD eigenpairs: eigenvalues [r] and coordinates c [r, r] (columns, unit norm)."""
    lam, c = np.linalg.eig(koopman_matrix(d))
    return lam, c / np.linalg.norm(c, axis=0, keepdims=True)


def pair_residuals(d: ResDMD, lam: np.ndarray, c: np.ndarray) -> np.ndarray:
    """res(lambda_j, g_j) = ||(B - lambda_j U) c_j|| / ||c_j|| for candidate pairs (columns of c). [r]."""
    r = d.rank
    R1, R2 = d.R[:, :r], d.R[:, r:]
    num = np.linalg.norm(R2 @ c - (R1 @ c) * lam[None, :], axis=0)
    return num / np.linalg.norm(c, axis=0)


def residual(d: ResDMD, z: complex) -> float:
    """res(z) = sigma_min(R2 - z R1): the QR-based stable form (exact up to rounding)."""
    r = d.rank
    m = d.R[:, r:] - z * d.R[:, :r]
    return float(np.linalg.svd(m, compute_uv=False)[-1])


def pseudospectrum(d: ResDMD, zs: np.ndarray) -> np.ndarray:
    """res(z) on a set of points zs [P] (any shape) via the smallest eigenvalue of H(z)."""
    BB, UB = d.hermitian_parts()
    r = d.rank
    out = np.empty(zs.size)
    for i, z in enumerate(np.ravel(zs)):
        H = BB - z * UB.conj().T - np.conj(z) * UB + (abs(z) ** 2) * np.eye(r)
        H = 0.5 * (H + H.conj().T)
        ev = scipy.linalg.eigh(H, eigvals_only=True, subset_by_index=[0, 0])[0]
        out[i] = np.sqrt(max(ev, 0.0))
    return out.reshape(np.shape(zs))


def polar_grid(r_lo: float, r_hi: float, n_r: int, n_theta: int) -> np.ndarray:
    """Grid z[i, j] = r_i exp(i theta_j) [n_r, n_theta] (theta periodic)."""
    r = np.linspace(r_lo, r_hi, n_r)
    th = 2 * np.pi * np.arange(n_theta) / n_theta
    return r[:, None] * np.exp(1j * th)[None, :]


def grid_local_minima(res: np.ndarray) -> np.ndarray:
    """Indices (i, j) of strict-or-equal local minima of res [n_r, n_theta] over the 8-neighbourhood
    (periodic in the second axis, open boundary in the first). Returns [K, 2]."""
    n_r, n_t = res.shape
    pad = np.full((n_r + 2, n_t), np.inf)
    pad[1:-1] = res
    is_min = np.ones_like(res, bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di == 0 and dj == 0:
                continue
            nb = np.roll(pad, -dj, axis=1)[1 + di:n_r + 1 + di]
            is_min &= res <= nb
    return np.argwhere(is_min)


def verified_spectrum(d: ResDMD, grid: np.ndarray, eps: float, refine: bool = False, res_grid=None):
    """The verified-spectrum algorithm: res on the grid, its local minima with res < eps, each returned
    with its error bound res(z) (re-evaluated by SVD; optionally refined by minimising res(z) locally).

    Returns (points [K] complex, bounds [K], res_grid [n_r, n_theta]).
    """
    res_grid = pseudospectrum(d, grid) if res_grid is None else res_grid
    idx = grid_local_minima(res_grid)
    pts, bounds = [], []
    for i, j in idx:
        if res_grid[i, j] >= eps:
            continue
        z = grid[i, j]
        if refine:
            f = lambda p: residual(d, complex(p[0], p[1]))
            sol = scipy.optimize.minimize(f, [z.real, z.imag], method="Nelder-Mead",
                                          options=dict(xatol=1e-13, fatol=1e-15, maxiter=400))
            z = complex(sol.x[0], sol.x[1])
        b = residual(d, z)
        if b < eps:
            pts.append(z)
            bounds.append(b)
    return np.asarray(pts, np.complex128), np.asarray(bounds), res_grid


def eigenfunction_values(d: ResDMD, psi_eval: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Values of the eigenfunction g = coef c at the points whose dictionary rows are psi_eval [P, N]."""
    return psi_eval @ (d.coef @ c)


def eigenfunction_error(f_learned: np.ndarray, f_true: np.ndarray) -> float:
    """Relative L2 error after the best complex scaling: sqrt(1 - |<f, g>|^2 / (||f||^2 ||g||^2))."""
    num = abs(np.vdot(f_learned, f_true)) ** 2
    den = np.vdot(f_learned, f_learned).real * np.vdot(f_true, f_true).real
    return float(np.sqrt(max(0.0, 1.0 - num / den)))
