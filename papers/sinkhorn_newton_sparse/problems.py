"""OT test problems of the paper's Sec. 6: random assignment, image pairs (L1/L2 ground costs) and
discretised 2-D densities on a grid.

All builders return numpy float64 (cost [n, m], a [n], b [m]) with a.sum() == b.sum() == 1.
Image data: sklearn's 8x8 digits (offline) upsampled to side x side, or MNIST from a user directory
(``common.data.load_mnist``; raises DataNotFoundError when absent).
"""
from __future__ import annotations

import numpy as np

from common import data as common_data


def random_assignment(seed: int, n: int):
    """Random assignment problem: C_ij ~ U[0, 1] i.i.d., uniform marginals 1/n (paper Sec. 6)."""
    rng = np.random.default_rng(seed)
    cost = rng.uniform(size=(n, n))
    a = np.full(n, 1.0 / n)
    return cost, a, a.copy()


def grid_points(side: int) -> np.ndarray:
    """Pixel centres of a side x side grid scaled to [0, 1]^2, [side^2, 2] (row-major)."""
    t = np.arange(side, dtype=np.float64) / max(side - 1, 1)
    yy, xx = np.meshgrid(t, t, indexing="ij")
    return np.stack([yy.ravel(), xx.ravel()], 1)


def grid_cost(side: int, kind: str) -> np.ndarray:
    """Ground cost between grid pixels: 'l1' = ||p - q||_1 (W1), 'l2' = ||p - q||_2^2 (W2). [side^2, side^2]."""
    p = grid_points(side)
    diff = p[:, None, :] - p[None, :, :]
    if kind == "l1":
        return np.abs(diff).sum(-1)
    if kind == "l2":
        return (diff ** 2).sum(-1)
    raise ValueError(f"unknown ground cost {kind!r}; use 'l1' or 'l2'")


def image_to_density(image: np.ndarray, side: int, floor: float) -> np.ndarray:
    """An image as a probability vector on a side x side grid: bilinear resize, then mix with the uniform
    density, (1 - floor) p + floor / n, so every pixel has positive mass (log-domain solvers need it)."""
    from scipy import ndimage
    img = np.asarray(image, np.float64)
    if img.shape != (side, side):
        img = ndimage.zoom(img, (side / img.shape[0], side / img.shape[1]), order=1)
    img = np.clip(img, 0.0, None).ravel()
    p = img / img.sum()
    p = (1.0 - floor) * p + floor / p.size
    return p / p.sum()


def load_images(source: str, data_dir: str = "") -> np.ndarray:
    """Grey-scale images in [0, 1]: 'digits' (sklearn 8x8, offline) or 'mnist' (28x28 from data_dir)."""
    if source == "digits":
        return common_data.load_digits()[0]
    if source == "mnist":
        return common_data.load_mnist(data_dir, "train")[0]
    raise ValueError(f"unknown image source {source!r}; use 'digits' or 'mnist'")


def image_pair(images: np.ndarray, i: int, j: int, side: int, kind: str, floor: float):
    """OT between images i and j on a side x side grid with ground cost kind ('l1' or 'l2')."""
    a = image_to_density(images[i], side, floor)
    b = image_to_density(images[j], side, floor)
    return grid_cost(side, kind), a, b


def gaussian_blob_density(side: int, centres, std: float, weights=None, floor: float = 1e-6) -> np.ndarray:
    """A mixture of isotropic Gaussians evaluated on the side x side grid of [0, 1]^2, normalised."""
    p = grid_points(side)
    centres = np.asarray(centres, np.float64)
    w = np.ones(len(centres)) if weights is None else np.asarray(weights, np.float64)
    d2 = ((p[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    dens = (w[None, :] * np.exp(-0.5 * d2 / std ** 2)).sum(1)
    dens = dens / dens.sum()
    dens = (1.0 - floor) * dens + floor / dens.size
    return dens / dens.sum()


def grid_densities(side: int, kind: str):
    """Two discretised 2-D densities (paper Sec. 6, W1/W2 of discretised densities): a two-blob and a
    three-blob Gaussian mixture on a side x side grid, with ground cost kind ('l1' or 'l2')."""
    a = gaussian_blob_density(side, [[0.25, 0.3], [0.7, 0.7]], 0.12)
    b = gaussian_blob_density(side, [[0.3, 0.75], [0.75, 0.25], [0.5, 0.5]], 0.1, [1.0, 0.7, 0.5])
    return grid_cost(side, kind), a, b
