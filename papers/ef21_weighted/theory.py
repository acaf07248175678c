"""Step sizes and constants of EF21 / EF21-W (closed forms of the paper).

Notation (paper, Section 1-2): f = (1/n) sum_i f_i, f_i is L_i-smooth, f is L-smooth,
    L_QM = sqrt((1/n) sum_i L_i^2)   (quadratic mean),   L_AM = (1/n) sum_i L_i   (arithmetic mean),
    theta = 1 - sqrt(1 - alpha),      beta = (1 - alpha) / (1 - sqrt(1 - alpha)).
Old EF21 theory (Richtarik et al. 2021, Thm 1):        gamma <= 1 / (L + L_QM sqrt(beta/theta)).
EF21-W (Thm 2) and the refined analysis of EF21 (Thm 3): gamma <= 1 / (L + L_AM sqrt(beta/theta)).
Both give  (1/T) sum_t E||grad f(x^t)||^2 <= 2 (f(x^0) - f_inf) / (gamma T) + G^0 / (theta T).
"""
from __future__ import annotations

import numpy as np


def theta_beta(alpha: float) -> tuple[float, float]:
    """(theta, beta) of the EF21 analysis for a contractive compressor with parameter alpha."""
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must lie in (0, 1], got {alpha}")
    s = np.sqrt(1.0 - alpha)
    theta = 1.0 - s
    beta = (1.0 - alpha) / (1.0 - s)
    return float(theta), float(beta)


def xi(alpha: float) -> float:
    """sqrt(beta/theta) = sqrt(1 - alpha) / (1 - sqrt(1 - alpha)); 0 for alpha = 1 (no compression)."""
    theta, beta = theta_beta(alpha)
    return float(np.sqrt(beta / theta))


def l_am(L_i) -> float:
    return float(np.mean(np.asarray(L_i, dtype=np.float64)))


def l_qm(L_i) -> float:
    return float(np.sqrt(np.mean(np.asarray(L_i, dtype=np.float64) ** 2)))


def stepsize(L: float, L_tilde: float, alpha: float) -> float:
    """gamma = 1 / (L + L_tilde sqrt(beta/theta)) with L_tilde = L_QM (old) or L_AM (new)."""
    return float(1.0 / (L + L_tilde * xi(alpha)))


def stepsize_old(L: float, L_i, alpha: float) -> float:
    """EF21's original step (Richtarik et al. 2021, Theorem 1): uses L_QM."""
    return stepsize(L, l_qm(L_i), alpha)


def stepsize_new(L: float, L_i, alpha: float) -> float:
    """EF21-W step (Theorem 2), also valid for plain EF21 by the refined analysis (Theorem 3): uses L_AM."""
    return stepsize(L, l_am(L_i), alpha)


def stepsize_ratio(L: float, L_i, alpha: float) -> float:
    """gamma_new / gamma_old = (L + L_QM xi) / (L + L_AM xi) >= 1 (analytic speedup)."""
    return stepsize_new(L, L_i, alpha) / stepsize_old(L, L_i, alpha)


def ef21w_weights(L_i) -> np.ndarray:
    """w_i = L_i / sum_j L_j (Algorithm 2, input)."""
    L_i = np.asarray(L_i, dtype=np.float64)
    return L_i / L_i.sum()


def participation_alpha(alpha: float, p: float) -> float:
    """Contraction of 'participate with probability p, then apply C' (our derivation).

    E||chi C(x) - x||^2 = p E||C(x) - x||^2 + (1 - p)||x||^2 <= (1 - p alpha)||x||^2, so the masked
    compressor is contractive with p*alpha and Theorem 3's step applies with alpha -> p alpha.
    """
    if not 0.0 < p <= 1.0:
        raise ValueError(f"participation probability must lie in (0, 1], got {p}")
    return alpha * p


def rate_bound(gamma: float, theta: float, f0_minus_finf: float, G0: float, T: int) -> float:
    """Right-hand side of Theorems 2-3: 2 (f(x^0) - f_inf)/(gamma T) + G^0/(theta T)."""
    return 2.0 * f0_minus_finf / (gamma * T) + G0 / (theta * T)
