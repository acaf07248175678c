"""Data: offline sets for tests and small configs, real-data loaders for user directories, and
synthetic 2-D sets including Gaussian mixtures with exact log-density and exact noised score.

Nothing here downloads. A missing data set raises :class:`DataNotFoundError` saying where to put it.
"""
from __future__ import annotations

import dataclasses
import gzip
import os
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

FASHION_MNIST_DIRS = ("/usr/share/datasets/fashion-mnist",)


class DataNotFoundError(FileNotFoundError):
    """A data set is not where the loader looked; the message says how to provide it."""


def check_all(checks: dict[str, Callable[[], object]]) -> None:
    """Runs every check, keyed by the config key that points at its data (a loader call or a path test),
    and raises one :class:`DataNotFoundError` that lists each missing data set with its key. The train
    binaries call a paper's ``check_data(config)`` built on this before any work, so a missing data set stops
    a run in seconds instead of after hours of earlier work units."""
    problems = []
    for key, check in checks.items():
        try:
            check()
        except DataNotFoundError as e:
            problems.append(f"config.{key}: {e}")
    if problems:
        raise DataNotFoundError("data missing for this config (nothing was run; set the keys below, e.g. "
                                "--config.<key>=/path):\n  " + "\n  ".join(problems))


def require_path(path: str, what: str, how: str) -> str:
    """``path`` (``~`` expanded) if it exists (a file or a directory), else DataNotFoundError '<what> not found
    at <path>. <how>'. An empty path (an unset data_dir) counts as missing."""
    full = os.path.expanduser(path or "")
    if not path or not os.path.exists(full):
        raise DataNotFoundError(f"{what} not found at {path!r}. {how}")
    return full


# ---------------------------------------------------------------- offline sets

def _sklearn_digits_csv() -> str | None:
    """Path of the CSV that ``sklearn.datasets.load_digits`` parses, found without importing sklearn."""
    import importlib.util
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        return None
    path = os.path.join(os.path.dirname(spec.origin), "datasets", "data", "digits.csv.gz")
    return path if os.path.isfile(path) else None


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1797 8x8 digits: images float32 in [0, 1] of shape [1797, 8, 8], labels int32.

    Reads scikit-learn's bundled CSV directly (importing sklearn costs seconds; the file a fraction of
    one) and falls back to ``sklearn.datasets.load_digits`` where the file is not found.
    """
    path = _sklearn_digits_csv()
    if path is None:
        from sklearn.datasets import load_digits as sk_digits
        d = sk_digits()
        return (d.images / 16.0).astype(np.float32), d.target.astype(np.int32)
    table = np.loadtxt(path, delimiter=",")
    return (table[:, :-1].reshape(-1, 8, 8) / 16.0).astype(np.float32), table[:, -1].astype(np.int32)


def load_clustering_features(name: str, n: int = 0, *, seed: int = 0, data_dir: str = "", n_blobs: int = 10,
                             dim: int = 8) -> np.ndarray:
    """Feature vectors [n, d] float64 for clustering experiments (the k-medoids papers).

    name: 'digits' (1797 x 64, pixel values in [0, 1]); 'blobs' (n points from n_blobs isotropic
    Gaussians in dim dimensions, sklearn's ``make_blobs``); 'mnist' (the first n training images of MNIST
    from data_dir, 784 dims; raises DataNotFoundError when the files are missing).
    n = 0 keeps the whole set (digits, mnist); a smaller n takes a fixed random subset of the digits.
    """
    if name == "blobs":
        from sklearn.datasets import make_blobs
        x, _ = make_blobs(n_samples=n or 1000, centers=n_blobs, n_features=dim, cluster_std=1.5,
                          random_state=seed)
        return x.astype(np.float64)
    if name == "mnist":
        images, _ = load_mnist(data_dir, "train")
        return images[: n or len(images)].reshape(-1, 28 * 28).astype(np.float64)
    if name != "digits":
        raise ValueError(f"unknown data set {name!r}; choose 'digits', 'blobs' or 'mnist'")
    x = load_digits()[0].reshape(-1, 64).astype(np.float64)
    if n and n < len(x):
        x = x[np.sort(np.random.default_rng(seed).choice(len(x), n, replace=False))]
    return x


def read_idx(path: str) -> np.ndarray:
    """Reads an IDX file (MNIST format, optionally gzipped) into a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file (bad magic number)")
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if raw[2] not in dtypes:
        raise ValueError(f"{path}: unknown IDX element type {raw[2]:#x}")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=dtypes[raw[2]], offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says {shape} but holds {data.size} elements (truncated file?)")
    return data.reshape(shape).astype(np.dtype(dtypes[raw[2]]).newbyteorder("="))


def _find_idx(directory: str, prefix: str, kind: str) -> str | None:
    for name in (f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte", f"{prefix}-{kind}.idx"):
        for suffix in ("", ".gz"):
            path = os.path.join(directory, name + suffix)
            if os.path.exists(path):
                return path
    return None


def load_idx_split(directory: str, split: str = "train", name: str = "MNIST") -> tuple[np.ndarray, np.ndarray]:
    """Images (float32 in [0,1], [n, 28, 28]) and labels (int32) of an IDX directory.

    Expects ``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]`` and the ``t10k-`` pair.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    prefix = "train" if split == "train" else "t10k"
    images, labels = _find_idx(directory, prefix, "images"), _find_idx(directory, prefix, "labels")
    if images is None or labels is None:
        raise DataNotFoundError(
            f"{name} IDX files for split {split!r} not found in {directory!r}: expected "
            f"{prefix}-images-idx3-ubyte(.gz) and {prefix}-labels-idx1-ubyte(.gz) there.")
    return (read_idx(images) / 255.0).astype(np.float32), read_idx(labels).astype(np.int32)


def load_fashion_mnist(split: str = "train", data_dir: str | None = None):
    """Fashion-MNIST from ``data_dir``, ``$DATA_DIR/fashion-mnist`` or Debian's dataset-fashion-mnist."""
    candidates = [data_dir] if data_dir else []
    if os.environ.get("DATA_DIR"):
        candidates.append(os.path.join(os.environ["DATA_DIR"], "fashion-mnist"))
    candidates.extend(FASHION_MNIST_DIRS)
    for root in candidates:
        for directory in (root, os.path.join(root, "data")):
            if os.path.isdir(directory) and _find_idx(directory, "train", "images"):
                return load_idx_split(directory, split, "Fashion-MNIST")
    raise DataNotFoundError(
        f"Fashion-MNIST not found in {candidates}. Install it with `sudo apt-get install "
        "dataset-fashion-mnist`, or put the four IDX files in $DATA_DIR/fashion-mnist.")


def load_mnist(data_dir: str, split: str = "train"):
    """Full MNIST from a user directory of the four IDX files (download them yourself)."""
    if not data_dir or not os.path.isdir(data_dir):
        raise DataNotFoundError(
            f"MNIST directory {data_dir!r} does not exist. Download the four IDX files "
            "(train/t10k images and labels) into a directory and set the config's data_dir to it.")
    return load_idx_split(data_dir, split, "MNIST")


def cifar10_files(data_dir: str, split: str = "train") -> list[str]:
    """The binary CIFAR-10 files of ``split`` in ``data_dir``, checked for presence and size (10,000 rows of
    3,073 bytes each) without reading them; DataNotFoundError saying what is wrong otherwise."""
    if not data_dir or not os.path.isdir(data_dir):
        raise DataNotFoundError(
            f"CIFAR-10 directory {data_dir!r} does not exist. Download and unpack "
            "cifar-10-binary.tar.gz and set the config's data_dir to cifar-10-batches-bin/.")
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] if split == "train" else ["test_batch.bin"]
    missing = [n for n in names if not os.path.exists(os.path.join(data_dir, n))]
    if missing:
        raise DataNotFoundError(f"CIFAR-10 files {missing} missing in {data_dir!r} (binary version expected)")
    wrong = [n for n in names if os.path.getsize(os.path.join(data_dir, n)) != 10000 * 3073]
    if wrong:
        raise DataNotFoundError(f"CIFAR-10 files {wrong} in {data_dir!r} are not 30,730,000 bytes: truncated "
                                "downloads or not the binary version; unpack cifar-10-binary.tar.gz again.")
    return names


def load_cifar10(data_dir: str, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 from the *binary* distribution (``data_batch_{1..5}.bin``, ``test_batch.bin``).

    Returns uint8 images [n, 32, 32, 3] and int32 labels. The pickled Python version is not read
    (never unpickle downloaded files).
    """
    names = cifar10_files(data_dir, split)
    rows = np.concatenate([np.fromfile(os.path.join(data_dir, n), np.uint8).reshape(-1, 3073) for n in names])
    images = rows[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, rows[:, 0].astype(np.int32)


# ---------------------------------------------------------------- Gaussian mixtures

@dataclasses.dataclass(frozen=True)
class GaussianMixture:
    """p(x) = sum_k w_k N(x; mu_k, Sigma_k) with full covariances. Shapes: [K], [K, d], [K, d, d]."""
    weights: jnp.ndarray
    means: jnp.ndarray
    covs: jnp.ndarray

    @property
    def dim(self) -> int:
        return self.means.shape[-1]

    def log_prob(self, x: jnp.ndarray) -> jnp.ndarray:
        """Exact log-density, x: [..., d] -> [...]."""
        chol = jnp.linalg.cholesky(self.covs)                               # [K, d, d]
        diff = x[..., None, :] - self.means                                  # [..., K, d]
        z = jax.scipy.linalg.solve_triangular(chol, diff[..., None], lower=True)[..., 0]
        logdet = 2.0 * jnp.sum(jnp.log(jnp.diagonal(chol, axis1=-2, axis2=-1)), -1)
        comp = -0.5 * (jnp.sum(z ** 2, -1) + logdet + self.dim * jnp.log(2 * jnp.pi))
        return jax.scipy.special.logsumexp(comp + jnp.log(self.weights), axis=-1)

    def score(self, x: jnp.ndarray) -> jnp.ndarray:
        """Exact score grad_x log p(x): sum_k r_k(x) Sigma_k^{-1} (mu_k - x). x: [..., d]."""
        chol = jnp.linalg.cholesky(self.covs)
        diff = x[..., None, :] - self.means
        z = jax.scipy.linalg.solve_triangular(chol, diff[..., None], lower=True)
        prec_diff = jax.scipy.linalg.solve_triangular(jnp.swapaxes(chol, -1, -2), z, lower=False)[..., 0]
        logdet = 2.0 * jnp.sum(jnp.log(jnp.diagonal(chol, axis1=-2, axis2=-1)), -1)
        comp = -0.5 * (jnp.sum(z[..., 0] ** 2, -1) + logdet) + jnp.log(self.weights)
        resp = jax.nn.softmax(comp, axis=-1)                                 # [..., K]
        return -jnp.sum(resp[..., None] * prec_diff, axis=-2)

    def noised(self, alpha, sigma) -> "GaussianMixture":
        """The law of alpha x + sigma eps, eps ~ N(0, I): means alpha mu_k, covs alpha^2 Sigma_k + sigma^2 I."""
        eye = jnp.eye(self.dim, dtype=self.covs.dtype)
        return GaussianMixture(self.weights, alpha * self.means, alpha ** 2 * self.covs + sigma ** 2 * eye)

    def noised_score(self, x, alpha, sigma):
        """Exact score of the noised mixture at x (for scalar alpha, sigma)."""
        return self.noised(alpha, sigma).score(x)

    def sample(self, key: jax.Array, n: int) -> jnp.ndarray:
        """n samples, [n, d]."""
        k1, k2 = jax.random.split(key)
        comp = jax.random.categorical(k1, jnp.log(self.weights), shape=(n,))
        eps = jax.random.normal(k2, (n, self.dim), dtype=self.means.dtype)
        chol = jnp.linalg.cholesky(self.covs)[comp]
        return self.means[comp] + jnp.einsum("nij,nj->ni", chol, eps)


def make_mixture(means: Sequence[Sequence[float]], stds, weights=None, dtype=jnp.float32) -> GaussianMixture:
    """An isotropic mixture: stds is a scalar or one std per component."""
    means = jnp.asarray(means, dtype)
    k, d = means.shape
    stds = jnp.broadcast_to(jnp.asarray(stds, dtype), (k,))
    weights = jnp.full((k,), 1.0 / k, dtype) if weights is None else jnp.asarray(weights, dtype) / jnp.sum(jnp.asarray(weights, dtype))
    covs = stds[:, None, None] ** 2 * jnp.eye(d, dtype=dtype)
    return GaussianMixture(weights, means, covs)


def mixture_2d(name: str = "ring8", dtype=jnp.float32) -> GaussianMixture:
    """Named 2-D mixtures: 'ring8' (8 modes on a circle of radius 4), 'grid25' (5x5 grid), 'pair' (2 modes)."""
    if name == "ring8":
        angles = np.arange(8) * 2 * np.pi / 8
        return make_mixture(np.stack([4 * np.cos(angles), 4 * np.sin(angles)], 1), 0.3, dtype=dtype)
    if name == "grid25":
        g = np.arange(-2, 3) * 2.0
        return make_mixture(np.stack(np.meshgrid(g, g), -1).reshape(-1, 2), 0.2, dtype=dtype)
    if name == "pair":
        return make_mixture([[-2.0, 0.0], [2.0, 0.0]], 0.5, weights=[0.3, 0.7], dtype=dtype)
    raise ValueError(f"unknown 2-D mixture {name!r}; choose from 'ring8', 'grid25', 'pair'")


def two_moons(key: jax.Array, n: int, noise: float = 0.05) -> jnp.ndarray:
    """The two-moons set, [n, 2]."""
    k1, k2 = jax.random.split(key)
    t = jax.random.uniform(k1, (n,)) * jnp.pi
    upper = jnp.arange(n) % 2 == 0
    x = jnp.where(upper, jnp.cos(t), 1 - jnp.cos(t))
    y = jnp.where(upper, jnp.sin(t), 0.5 - jnp.sin(t))
    return jnp.stack([x, y], 1) + noise * jax.random.normal(k2, (n, 2))
