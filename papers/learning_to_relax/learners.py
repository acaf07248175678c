"""Online learners that pick the relaxation parameter omega from a grid of K arms.

* Tsallis-INF (Zimmert & Seldin, 2021) with alpha = 1/2 and eta_t = 2 / sqrt(t): the non-contextual
  bandit of the paper. The played arm's cost is turned into an importance-weighted loss estimate; the
  costs are normalised as in the official code (``learners/TsallisINF.m``): the estimate accumulates
  (cost - 1) / p and is divided by the running mean of (cost - 1) when the distribution is computed.
* ChebCB: the paper's contextual bandit for a scalar context (the diagonal shift c_t). Each arm keeps a
  degree-(m-1) Chebyshev regression of its normalised cost on c (least squares; box-constrained when the
  minimum-norm fit leaves the coefficient bounds of a Lipschitz function), and the arm is sampled by
  inverse-gap weighting (SquareCB, Foster & Rakhlin 2020): p_a = 1 / (K + eta_t (yhat_a - yhat_*)) for
  a != argmin yhat, the rest on the greedy arm. The scale, coefficient bounds, the squared-error tally
  R_t (recomputed with the current scale) and the increasing eta_t follow ``learners/ChebCB.m`` of the
  official code; the context interval is the official script's [-0.15, 0.65].

The learners consume a precomputed [T, K] cost table (see instances.py): on round t they only read
``costs[t, a_t]`` for the arm they chose. Pure numpy with an explicit ``np.random.Generator``.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize


# ----------------------------------------------------------------------------- Tsallis-INF

def tsallis_inf_probs(loss_hat: np.ndarray, eta: float, newton_steps: int = 50) -> np.ndarray:
    """The 1/2-Tsallis-INF distribution p_i = 4 / (eta (L_i - x))^2 with x such that sum_i p_i = 1.

    x is found by Newton's method started at x_0 = min_i L_i - 2/eta (where the best arm alone has
    p = 1, so sum p >= 1): sum_i p_i(x) is convex and increasing on x < min L, so the iterates decrease
    monotonically to the root. Shapes: loss_hat [K] -> [K].
    """
    loss_hat = np.asarray(loss_hat, np.float64)
    x = loss_hat.min() - 2.0 / eta
    for _ in range(newton_steps):
        p = 4.0 / (eta * (loss_hat - x)) ** 2
        f = p.sum() - 1.0
        if abs(f) < 1e-13:
            break
        x -= f / (eta * np.sum(p ** 1.5))
    p = 4.0 / (eta * (loss_hat - x)) ** 2
    return p / p.sum()


def run_tsallis_inf(costs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Plays Tsallis-INF over a [T, K] cost table; returns the chosen arms [T] (int)."""
    T, K = costs.shape
    k_hat = np.zeros(K)                 # sum over rounds of (cost - 1) / p for the played arm
    arms = np.zeros(T, np.int64)
    total = 0.0
    for t in range(T):
        eta = 2.0 / np.sqrt(t + 1)
        scale = total / t - 1.0 if t > 0 else 1.0
        scale = max(scale, 1e-12)
        p = tsallis_inf_probs(k_hat / scale, eta)
        a = int(rng.choice(K, p=p))
        cost = float(costs[t, a])
        k_hat[a] += (cost - 1.0) / p[a]
        total += cost
        arms[t] = a
    return arms


# ----------------------------------------------------------------------------- ChebCB

def chebyshev_features(u, m: int) -> np.ndarray:
    """[T_0(u), ..., T_{m-1}(u)] for u in [-1, 1] (three-term recursion); u [...] -> [..., m]."""
    u = np.asarray(u, np.float64)
    out = [np.ones_like(u), u]
    for _ in range(2, m):
        out.append(2.0 * u * out[-1] - out[-2])
    return np.stack(out[:m], axis=-1)


def box_lsq_normal_equations(gram: np.ndarray, moment: np.ndarray, y_sq: float, lb: np.ndarray, ub: np.ndarray,
                             max_cond: float = 1e6):
    """argmin_{lb <= theta <= ub} ||F theta - y||^2 from F'F = gram [m, m], F'y = moment [m], y'y = y_sq.

    With gram = R'R (Cholesky) and R'z = F'y, ||F theta - y||^2 = ||R theta - z||^2 + y'y - z'z, so the
    m x m problem (exact active-set BVLS) has the same minimiser as the one on all rows, at O(m^3) cost.
    Returns (theta [m], squared residual norm), or None when gram is singular or cond(R) >= max_cond
    (then the caller solves on the rows).
    """
    try:
        R = np.linalg.cholesky(gram).T
    except np.linalg.LinAlgError:
        return None
    if not np.linalg.cond(R) < max_cond:
        return None
    z = np.linalg.solve(R.T, moment)
    res = optimize.lsq_linear(R, z, bounds=(lb, ub), method="bvls")
    return res.x, float(max(2.0 * res.cost + y_sq - z @ z, 0.0))


class ChebCB:
    """Contextual bandit over K arms with a scalar context in [lo, hi] (Chebyshev regression + IGW).

    Args:
      K: number of arms; m: number of Chebyshev coefficients per arm (the paper: 6);
      lo, hi: the context interval mapped to [-1, 1]; T: horizon (buffer size).
    """

    def __init__(self, K: int, m: int, lo: float, hi: float, T: int):
        self.K, self.m, self.lo, self.width = K, m, float(lo), float(hi - lo)
        self.theta = np.zeros((K, m))
        self.gram = np.zeros((K, m, m))          # per-arm F^T F
        self.moment = np.zeros((K, m))           # per-arm F^T (cost - 1)
        self.cost_sq = np.zeros(K)               # per-arm sum of (cost - 1)^2
        self.features = np.zeros((T, m))
        self.costs = np.zeros(T)
        self.arms = np.zeros(T, np.int64)
        self.predicted = np.zeros(T)
        self.t = 0
        self.eta = 0.0
        self.scale = 0.0
        # running sums for R = sum_s (predicted_s - cost_s / scale)^2 with the *current* scale
        self.sum_pred_sq, self.sum_pred_cost, self.sum_cost_sq = 0.0, 0.0, 0.0

    def featurize(self, context: float) -> np.ndarray:
        u = np.clip(2.0 * (context - self.lo) / self.width - 1.0, -1.0, 1.0)
        return chebyshev_features(u, self.m)

    def probabilities(self, phi: np.ndarray) -> np.ndarray:
        """Inverse-gap weighting of the predicted normalised costs yhat = theta phi ([K])."""
        yhat = self.theta @ phi
        best = int(np.argmin(yhat))
        p = 1.0 / (self.K + self.eta * (yhat - yhat[best]))
        p[best] = 0.0
        p[best] = 1.0 - p.sum()
        return p

    def predict(self, context: float, rng: np.random.Generator) -> int:
        phi = self.featurize(context)
        p = self.probabilities(phi)
        a = int(rng.choice(self.K, p=p / p.sum()))
        self.features[self.t], self.arms[self.t] = phi, a
        self.predicted[self.t] = self.theta[a] @ phi
        return a

    def _fit(self, a: int, lb: np.ndarray, ub: np.ndarray) -> float | None:
        """Refits arm a: minimum-norm least squares of (cost - 1) / scale on the features, replaced by the
        box-constrained fit when it leaves the bounds. Returns the constrained fit's squared residual
        norm, or None when the unconstrained fit was kept (official code: ``lsqminnorm`` then ``lsqlin``)."""
        theta = np.linalg.pinv(self.gram[a]) @ self.moment[a] / self.scale
        if np.all(np.abs(theta) <= ub):
            self.theta[a] = theta
            return None
        fit = box_lsq_normal_equations(self.gram[a], self.moment[a] / self.scale,
                                       self.cost_sq[a] / self.scale ** 2, lb, ub)
        if fit is not None:
            self.theta[a] = fit[0]
            return fit[1]
        rows = self.arms[:self.t + 1] == a
        F, y = self.features[:self.t + 1][rows], (self.costs[:self.t + 1][rows] - 1.0) / self.scale
        res = optimize.lsq_linear(F, y, bounds=(lb, ub), method="bvls")
        self.theta[a] = res.x
        return float(2.0 * res.cost)

    def cost_slope(self, k_max: float) -> float:
        """The Lipschitz estimate L of cost in the context: (max - min of the cost buffer) / (b - a).

        The official ``ChebCB.m`` takes the min over its buffer of T slots pre-filled with zeros, so the min
        is 0 on every round but the last (whose update no choice reads): L = K / (b - a), K the largest
        cost seen. With it N = 2 + 4 (1 + log m) is a constant and the coefficient bounds are
        [1/N, 2/(N j)], j = 1..m-1.
        """
        return k_max / self.width

    def update(self, cost: float) -> None:
        t, a, phi = self.t, self.arms[self.t], self.features[self.t]
        self.costs[t] = cost
        self.gram[a] += np.outer(phi, phi)
        self.moment[a] += phi * (cost - 1.0)
        self.cost_sq[a] += (cost - 1.0) ** 2
        k_max = max(self.costs[:t + 1].max(), 1.0)         # K (an iteration count; >= 1 keeps N finite)
        lip = self.cost_slope(k_max)
        n_fac = 2.0 + 4.0 * self.width * lip / k_max * (1.0 + np.log(self.m))
        new_scale = k_max * n_fac
        refit_all = new_scale != self.scale
        self.scale = new_scale
        ub = np.concatenate([[1.0 / n_fac], 2.0 * self.width * lip / self.scale / np.arange(1, self.m)])
        resnorm = 0.0                                            # of the last constrained refit, as in the official code
        for arm in (range(self.K) if refit_all else [a]):
            if self.gram[arm, 0, 0] > 0:
                r = self._fit(arm, -ub, ub)
                resnorm = resnorm if r is None else r
        pred = self.predicted[t]
        self.sum_pred_sq += pred * pred
        self.sum_pred_cost += pred * cost
        self.sum_cost_sq += cost * cost
        # R = sum_{s <= t} (predicted_s - cost_s / scale_t)^2: the official code's squared-error tally,
        # recomputed with the current scale K N (target cost / (K N), as written there)
        sq_err = self.sum_pred_sq - 2.0 * self.sum_pred_cost / self.scale + self.sum_cost_sq / self.scale ** 2
        alpha = (np.pi + 2.0 / np.pi * np.log(2.0 * self.m + 1.0)) / (2.0 * self.scale * (self.m + 1)) \
            * self.width * lip
        n = t + 1
        denom = sq_err - resnorm + 2.0 * alpha ** 2 * n
        self.eta = 2.0 * n * np.sqrt(self.K * n / denom) if denom > 0 else 1e300     # guard (official: sqrt of a negative)
        self.t += 1


def run_chebcb(costs: np.ndarray, contexts: np.ndarray, rng: np.random.Generator, *, m: int = 6,
               lo: float = -0.15, hi: float = 0.65) -> np.ndarray:
    """Plays ChebCB over a [T, K] cost table with contexts [T]; returns the chosen arms [T]."""
    T, K = costs.shape
    learner = ChebCB(K, m, lo, hi, T)
    for t in range(T):
        a = learner.predict(float(contexts[t]), rng)
        learner.update(float(costs[t, a]))
    return learner.arms.copy()
