"""Data sets for the experiments: sklearn digits (offline), Gaussian blobs, and an MNIST subset."""
from __future__ import annotations

import numpy as np

from common import data as common_data


def load_features(name: str, n: int = 0, *, seed: int = 0, data_dir: str = "", n_blobs: int = 10,
                  dim: int = 8) -> np.ndarray:
    """Feature vectors [n, d] float64.

    name: 'digits' (1797 x 64, pixel values in [0, 1]); 'blobs' (n points from n_blobs isotropic
    Gaussians in dim dimensions); 'mnist' (the first n training images of MNIST from data_dir,
    784 dims; raises common.data.DataNotFoundError when the directory is missing).
    n = 0 keeps the whole set (digits, mnist); a smaller n takes a fixed random subset.
    """
    if name == "digits":
        x = common_data.load_digits()[0].reshape(-1, 64).astype(np.float64)
    elif name == "blobs":
        from sklearn.datasets import make_blobs
        x, _ = make_blobs(n_samples=n or 1000, centers=n_blobs, n_features=dim, cluster_std=1.5,
                          random_state=seed)
        return x.astype(np.float64)
    elif name == "mnist":
        images, _ = common_data.load_mnist(data_dir, "train")
        x = images[: n or len(images)].reshape(-1, 28 * 28).astype(np.float64)
        return x
    else:
        raise ValueError(f"unknown data set {name!r}; choose 'digits', 'blobs' or 'mnist'")
    if n and n < len(x):
        idx = np.sort(np.random.default_rng(seed).choice(len(x), n, replace=False))
        x = x[idx]
    return x
