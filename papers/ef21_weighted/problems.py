"""Distributed problems f(x) = (1/n) sum_i f_i(x) with known smoothness constants L_i.

Each problem holds its client data as numpy arrays with a leading client axis (padded to a
common number of rows with a row mask), the L_i, the smoothness L of f, and a per-client
loss/gradient written in JAX. Two families:

* least squares, f_i(x) = 1/(2 m) ||A_i x - b_i||^2, with A_i built so that the spectrum of
  A_i^T A_i / m is L_i * linspace(1/kappa, 1, d): L_i is exact and controlled (log-uniform on
  [L_min, L_max] for heterogeneity, or equal for the homogeneous case);
* logistic regression with the nonconvex regulariser of the EF21 papers,
  f_i(x) = (1/m_i) sum_j log(1 + exp(-y_j a_j^T x)) + lam sum_k x_k^2 / (1 + x_k^2),
  L_i = lambda_max(A_i^T A_i) / (4 m_i) + 2 lam, on a data set split across clients.
"""
from __future__ import annotations

import dataclasses
import os

import jax
import jax.numpy as jnp
import numpy as np

from common import data as common_data


@dataclasses.dataclass
class Problem:
    """Client data (numpy, leading axis = n clients) and constants of f = (1/n) sum_i f_i."""
    name: str
    kind: str            # 'least_squares' | 'logistic'
    A: np.ndarray        # [n, m, d] rows (zero rows where mask == 0)
    b: np.ndarray        # [n, m] targets (least squares) or labels in {-1, +1} (logistic)
    mask: np.ndarray     # [n, m] 1 for real rows
    L_i: np.ndarray      # [n] smoothness constants of the f_i
    L: float             # smoothness constant of f
    lam: float = 0.0     # nonconvex regulariser weight (logistic)

    @property
    def n(self) -> int:
        return int(self.A.shape[0])

    @property
    def dim(self) -> int:
        return int(self.A.shape[2])

    def client_data(self) -> dict:
        counts = np.maximum(self.mask.sum(axis=1), 1.0)
        return {"A": self.A, "b": self.b, "mask": self.mask, "count": counts}


# ----------------------------------------------------------------------------- per-client math (JAX)

def client_loss(kind: str, lam: float, x: jnp.ndarray, c: dict) -> jnp.ndarray:
    """f_i(x) for one client c = {A [m,d], b [m], mask [m], count []}."""
    z = c["A"] @ x
    if kind == "least_squares":
        return 0.5 * jnp.sum(c["mask"] * (z - c["b"]) ** 2) / c["count"]
    if kind == "logistic":
        data = jnp.sum(c["mask"] * jnp.logaddexp(0.0, -c["b"] * z)) / c["count"]
        return data + lam * jnp.sum(x**2 / (1.0 + x**2))
    raise ValueError(f"unknown problem kind {kind!r}")


def client_grad(kind: str, lam: float, x: jnp.ndarray, c: dict) -> jnp.ndarray:
    """grad f_i(x) [d] in closed form (checked against jax.grad in the tests)."""
    z = c["A"] @ x
    if kind == "least_squares":
        return c["A"].T @ (c["mask"] * (z - c["b"])) / c["count"]
    if kind == "logistic":
        s = jax.nn.sigmoid(-c["b"] * z)
        return -(c["A"].T @ (c["mask"] * c["b"] * s)) / c["count"] + lam * 2.0 * x / (1.0 + x**2) ** 2
    raise ValueError(f"unknown problem kind {kind!r}")


def sample_rows(c: dict, key: jax.Array, batch: int) -> dict:
    """A minibatch of ``batch`` real rows of client c, drawn uniformly with replacement.

    Real rows come first in each client's block, so row indices floor(u * count) are valid; the
    minibatch gradient is an unbiased estimate of grad f_i (used by EF21-SGD / EF21-W-SGD).
    """
    u = jax.random.uniform(key, (batch,), dtype=c["A"].dtype)
    idx = jnp.minimum(jnp.floor(u * c["count"]).astype(jnp.int32), c["A"].shape[0] - 1)
    return {"A": c["A"][idx], "b": c["b"][idx], "mask": jnp.ones((batch,), c["A"].dtype),
            "count": jnp.asarray(batch, c["A"].dtype)}


def full_gradient_np(p: Problem, x: np.ndarray) -> np.ndarray:
    """grad f(x) in numpy float64 (independent reference for tests)."""
    grads = []
    for i in range(p.n):
        A, b, m = p.A[i], p.b[i], p.mask[i]
        cnt = max(m.sum(), 1.0)
        z = A @ x
        if p.kind == "least_squares":
            g = A.T @ (m * (z - b)) / cnt
        else:
            s = 1.0 / (1.0 + np.exp(b * z))
            g = -(A.T @ (m * b * s)) / cnt + p.lam * 2 * x / (1 + x**2) ** 2
        grads.append(g)
    return np.mean(grads, axis=0)


def stacked_rows(p: Problem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X [N,d], y [N], w [N]): the real rows of all clients, w = 1/(n m_i) for a row of client i.

    With these weights grad f(x) = sum_r w_r grad loss_r(x) (+ the regulariser), one matrix product.
    """
    real = p.mask > 0
    weights = np.broadcast_to((1.0 / (p.n * np.maximum(p.mask.sum(axis=1), 1.0)))[:, None], p.mask.shape)
    return p.A[real], p.b[real], weights[real]


def full_gradient_rows(p: Problem, rows: tuple, x: np.ndarray) -> np.ndarray:
    """grad f(x) [d] from :func:`stacked_rows` (numpy float64)."""
    X, y, w = rows
    z = X @ x
    if p.kind == "least_squares":
        return X.T @ (w * (z - y))
    s = 1.0 / (1.0 + np.exp(y * z))
    return -(X.T @ (w * y * s)) + p.lam * 2.0 * x / (1.0 + x**2) ** 2


def gradient_descent(p: Problem, gamma: float, rounds: int) -> tuple[float, np.ndarray]:
    """Uncompressed distributed GD x^{t+1} = x^t - gamma grad f(x^t) from x^0 = 0 (the baseline EF21
    reduces to without compression): returns (||grad f(x^0)||^2, gn2 [rounds] with gn2[t-1] = ||grad f(x^t)||^2),
    the same convention as ``EF21Runner.run``."""
    rows = stacked_rows(p)
    x = np.zeros(p.dim)
    grad = full_gradient_rows(p, rows, x)
    gn2_0, hist = float(grad @ grad), np.empty(rounds)
    for t in range(rounds):
        x = x - gamma * grad
        grad = full_gradient_rows(p, rows, x)
        hist[t] = grad @ grad
    return gn2_0, hist


# ----------------------------------------------------------------------------- builders

def make_least_squares(seed: int, n: int, d: int, m: int, L_min: float, L_max: float, kappa: float,
                       heterogeneous: bool = True, L_hom: float = 100.0, noise: float = 1.0) -> Problem:
    """Least squares with L_i log-uniform on [L_min, L_max] (or all equal to L_hom).

    A_i = U_i diag(sqrt(m * L_i * s)) V_i^T with random orthonormal U_i [m,d], V_i [d,d] and
    s = linspace(1/kappa, 1, d), so A_i^T A_i / m has eigenvalues L_i * s and f_i is exactly
    L_i-smooth; f has condition number at most kappa. b_i = A_i x_i* + noise * N(0, I) with
    client-specific x_i*, so the clients disagree (heterogeneous data, no interpolation).
    """
    if m < d:
        raise ValueError(f"rows per client m={m} must be >= d={d}")
    rng = np.random.default_rng(seed)
    if heterogeneous:
        L_i = np.exp(rng.uniform(np.log(L_min), np.log(L_max), size=n))
    else:
        L_i = np.full(n, float(L_hom))
    spectrum = np.linspace(1.0 / kappa, 1.0, d)
    A = np.empty((n, m, d))
    b = np.empty((n, m))
    for i in range(n):
        U, _ = np.linalg.qr(rng.standard_normal((m, d)))
        V, _ = np.linalg.qr(rng.standard_normal((d, d)))
        A[i] = U @ np.diag(np.sqrt(m * L_i[i] * spectrum)) @ V.T
        x_star = rng.standard_normal(d)
        b[i] = A[i] @ x_star + noise * rng.standard_normal(m)
    H = np.einsum("nmi,nmj->ij", A, A) / (n * m)
    L = float(np.linalg.eigvalsh(H)[-1])
    name = "ls_hetero" if heterogeneous else "ls_homo"
    return Problem(name, "least_squares", A, b, np.ones((n, m)), L_i, L)


def least_squares_solution(p: Problem) -> np.ndarray:
    """argmin f for least squares (normal equations), numpy float64."""
    counts = p.mask.sum(axis=1)
    H = np.einsum("nmi,nmj->ij", p.A, p.A / counts[:, None, None]) / p.n
    r = np.einsum("nmi,nm->i", p.A, p.b / counts[:, None]) / p.n
    return np.linalg.solve(H, r)


def split_sizes(rng: np.random.Generator, total: int, n: int, spread: float) -> np.ndarray:
    """n positive client sizes summing to total, log-uniform with max/min ratio about ``spread``."""
    w = np.exp(rng.uniform(0.0, np.log(spread), size=n))
    sizes = np.maximum(1, np.floor(w / w.sum() * total).astype(int))
    sizes[np.argmax(sizes)] += total - sizes.sum()
    if sizes.min() < 1:
        raise ValueError(f"cannot split {total} samples over {n} clients")
    return sizes


def logistic_from_arrays(X: np.ndarray, y: np.ndarray, n: int, lam: float, seed: int, spread: float,
                         name: str, scale_spread: float = 1.0, sort_by_label: bool = True) -> Problem:
    """Splits (X [N,d], y [N] in {-1,+1}) over n clients.

    The split is non-iid (rows sorted by label, then cut into n contiguous blocks whose sizes are
    log-uniform with max/min about ``spread``). With scale_spread > 1 the rows of client i are
    multiplied by a factor log-uniform on [1, scale_spread] (controlled heterogeneity of the L_i,
    which then spread over about scale_spread^2); scale_spread = 1 keeps the data as is.
    """
    rng = np.random.default_rng(seed)
    order = np.argsort(y, kind="stable") if sort_by_label else rng.permutation(len(y))
    X, y = X[order], y[order]
    sizes = split_sizes(rng, len(y), n, spread)
    factors = np.exp(rng.uniform(0.0, np.log(scale_spread), size=n)) if scale_spread > 1 else np.ones(n)
    m = int(sizes.max())
    d = X.shape[1]
    A, b, mask = np.zeros((n, m, d)), np.zeros((n, m)), np.zeros((n, m))
    L_i = np.empty(n)
    start = 0
    H = np.zeros((d, d))
    for i, s in enumerate(sizes):
        Ai = X[start:start + s] * factors[i]
        A[i, :s], b[i, :s], mask[i, :s] = Ai, y[start:start + s], 1.0
        Hi = Ai.T @ Ai / s
        L_i[i] = np.linalg.eigvalsh(Hi)[-1] / 4.0 + 2.0 * lam
        H += Hi / n
        start += s
    L = float(np.linalg.eigvalsh(H)[-1] / 4.0 + 2.0 * lam)
    return Problem(name, "logistic", A, b, mask, L_i, L, lam)


def make_digits_logistic(n: int, lam: float, seed: int, spread: float, scale_spread: float = 1.0) -> Problem:
    """sklearn digits (1797 x 64, in [0,1]) + bias column; label +1 for digits >= 5, else -1."""
    images, labels = common_data.load_digits()
    X = images.reshape(len(images), -1).astype(np.float64)
    X = np.concatenate([X, np.ones((len(X), 1))], axis=1)
    y = np.where(np.asarray(labels) >= 5, 1.0, -1.0)
    return logistic_from_arrays(X, y, n, lam, seed, spread, "logreg_digits", scale_spread)


def libsvm_file(data_dir: str, dataset: str) -> str:
    """The path ``data_dir/dataset`` of a LIBSVM file, or DataNotFoundError saying where to get it."""
    return common_data.require_path(
        os.path.join(data_dir, dataset) if data_dir else "", f"LIBSVM file {dataset!r}",
        f"Download it from https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/binary.html and pass "
        f"--config.logreg.data_dir=/dir/holding/it (the file name must equal config.logreg.dataset).")


def make_libsvm_logistic(data_dir: str, dataset: str, n: int, lam: float, seed: int, spread: float,
                         scale_spread: float = 1.0) -> Problem:
    """A LIBSVM binary data set (e.g. a9a, w8a, phishing) read from ``data_dir/dataset``."""
    path = libsvm_file(data_dir, dataset)
    from sklearn.datasets import load_svmlight_file
    X, y = load_svmlight_file(path)
    X = np.asarray(X.todense(), dtype=np.float64)
    y = np.where(y > 0, 1.0, -1.0)
    return logistic_from_arrays(X, y, n, lam, seed, spread, f"logreg_{dataset}", scale_spread)
