"""The monotone parameterisation of the pairwise coupling W of a deep Boltzmann machine (Sec. 4).

Units are categorical (one-hot). A *layer* is a grid of units: shape (H, W, G, n) holds H x W
positions with G units each, every unit having n categories (a dense layer is H = W = 1). A state
q is a tuple of arrays, one per layer, of shape [B, H, W, G, n] with each unit's last axis on the
probability simplex.

The coupling is built from a linear map A made of convolutions (and dense maps), block
A[i][j] mapping layer j into a space shaped like layer i:

    W = S^{1/2} (blkdiag(A^T A) - A^T A) S^{1/2},                                      (Eq. W)

"hollow": every unit's own n x n diagonal block of W is exactly zero, so the pairwise energy has no
self-interaction and mean-field is exact in its expectation. Since A^T A is PSD,
I - W = I - S^{1/2} D S^{1/2} + S^{1/2} A^T A S^{1/2} >= I - S^{1/2} D S^{1/2}, with D = blkdiag(A^T A).
The per-unit rescaling s_u = min(1, (1 - m) / ||D_u||_2) makes every block of S^{1/2} D S^{1/2}
have norm <= 1 - m, hence I - W >= m I (strong monotonicity, unique mean-field fixed point).
(We rescale symmetrically, S^{1/2} on both sides, so W stays symmetric, as a Boltzmann machine's
energy needs.) With ``monotone=False`` the rescaling is skipped: the same W = D - A^T A without
the guarantee, used as an unconstrained baseline.

The diagonal blocks of A^T A of a strided, padded convolution are computed exactly, boundary
positions included: for input position x and kernel tap t the column of A hits output
y = (x + pad - t) / stride when that is an integer inside the output grid, so
D_x = sum_{valid t} K_t K_t^T restricted to each unit's n channels.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True)
class Architecture:
    """Static description of a (multi-tier, convolutional) DBM.

    layers: per layer (H, W, G, n): grid, units per position, categories per unit.
    couplings: per block of A, (i, j, kernel): the map from layer j into row-space i. For two grid
      layers it is a kernel x kernel convolution with stride H_j // H_i and 'SAME'-like padding;
      into a dense layer (H_i = 1) from a grid layer it is a full-size (VALID) convolution; between
      dense layers a 1x1 map.
    """
    layers: tuple
    couplings: tuple

    def channels(self, i: int) -> int:
        _, _, g, n = self.layers[i]
        return g * n

    def conv_geometry(self, i: int, j: int, k: int):
        """(kernel (kh, kw), stride, padding ((lo, hi), (lo, hi))) of block A[i][j]."""
        hi_, wi_, _, _ = self.layers[i]
        hj, wj, _, _ = self.layers[j]
        if hi_ == 1 and wi_ == 1 and (hj > 1 or wj > 1):
            return (hj, wj), 1, ((0, 0), (0, 0))
        if hj % hi_ or wj % wi_:
            raise ValueError(f"layer {j} ({hj}x{wj}) does not stride down to layer {i} ({hi_}x{wi_})")
        s = hj // hi_
        pads = []
        for n_in, n_out in ((hj, hi_), (wj, wi_)):
            total = max((n_out - 1) * s + k - n_in, 0)
            pads.append((total // 2, total - total // 2))
        return (k, k), s, tuple(pads)

    @property
    def dim(self) -> int:
        return int(sum(h * w * g * n for h, w, g, n in self.layers))


def dense_architecture(num_units: int, num_categories: int) -> Architecture:
    """One dense layer of ``num_units`` categorical units; A is a single square [d, d] matrix."""
    return Architecture(layers=((1, 1, num_units, num_categories),), couplings=((0, 0, 1),))


# --------------------------------------------------------------------------- parameters

def init_params(arch: Architecture, key, scale: float = 1.0, bias_scale: float = 0.1, dtype=jnp.float32):
    """{"kernels": {"i_j": [kh, kw, C_j, C_i]}, "biases": [ [H, W, G, n] per layer ]}.

    Kernels are N(0, scale^2 / fan_in); biases N(0, bias_scale^2).
    """
    shapes, fans = [], []
    for i, j, k in arch.couplings:
        (kh, kw), _, _ = arch.conv_geometry(i, j, k)
        fans.append(kh * kw * arch.channels(j))
        shapes.append((kh, kw, arch.channels(j), arch.channels(i)))
    shapes += [tuple(layer) for layer in arch.layers]
    normals = _standard_normals(key, tuple(shapes), dtype)
    kernels = {f"{i}_{j}": (scale / np.sqrt(fan)) * z for (i, j, _), fan, z in zip(arch.couplings, fans, normals)}
    biases = [bias_scale * z for z in normals[len(arch.couplings):]]
    return {"kernels": kernels, "biases": biases}


@functools.partial(jax.jit, static_argnums=(1, 2))
def _standard_normals(key, shapes: tuple, dtype):
    """N(0, 1) draws of the given shapes from split(key): one compiled program (drawn op by op, every shape
    compiled its own). The scaling stays outside, where XLA cannot fold it into the draw's constants."""
    return [jax.random.normal(k, s, dtype) for k, s in zip(jax.random.split(key, len(shapes)), shapes)]


# --------------------------------------------------------------------------- A, A^T

def _conv(arch, i, j, k, kernel, x):
    """A[i][j] x: x [B, H_j, W_j, C_j] -> [B, H_i, W_i, C_i]."""
    _, s, pad = arch.conv_geometry(i, j, k)
    return jax.lax.conv_general_dilated(x, kernel, (s, s), pad, dimension_numbers=("NHWC", "HWIO", "NHWC"))


def _to_nhwc(q):
    b, h, w, g, n = q.shape
    return q.reshape(b, h, w, g * n)


def apply_A(arch: Architecture, params, q):
    """A q: tuple of [B, H_i, W_i, G_i, n_i] -> tuple of row-space arrays [B, H_i, W_i, C_i]."""
    out = [None] * len(arch.layers)
    for i, j, k in arch.couplings:
        y = _conv(arch, i, j, k, params["kernels"][f"{i}_{j}"], _to_nhwc(q[j]))
        out[i] = y if out[i] is None else out[i] + y
    b = q[0].shape[0]
    return tuple(o if o is not None else jnp.zeros((b,) + arch.layers[i][:2] + (arch.channels(i),), q[0].dtype)
                 for i, o in enumerate(out))


def apply_AT(arch: Architecture, params, r, like):
    """A^T r (exact transpose of apply_A, by jax.linear_transpose); ``like`` is a state template."""
    (out,) = jax.linear_transpose(lambda q: apply_A(arch, params, q), like)(r)
    return out


# --------------------------------------------------------------------------- blkdiag(A^T A)

def _tap_validity(n_in: int, n_out: int, k: int, stride: int, lo: int) -> np.ndarray:
    """[n_in, k] bool: does tap t of the input position x reach an output y = (x + lo - t) / stride?"""
    x = np.arange(n_in)[:, None]
    t = np.arange(k)[None, :]
    num = x + lo - t
    return (num % stride == 0) & (num >= 0) & (num // stride < n_out)


def block_diagonal(arch: Architecture, params):
    """Per layer j the unit diagonal blocks of A^T A: [H_j, W_j, G_j, n_j, n_j] (exact, boundaries too)."""
    blocks = []
    for j, (h, w, g, n) in enumerate(arch.layers):
        dj = jnp.zeros((h, w, g, n, n), dtype=jax.tree.leaves(params)[0].dtype)
        for i, jj, k in arch.couplings:
            if jj != j:
                continue
            kern = params["kernels"][f"{i}_{j}"]                    # [kh, kw, C_j, C_i]
            (kh, kw), s, ((ph, _), (pw, _)) = arch.conv_geometry(i, j, k)
            kg = kern.reshape(kh, kw, g, n, -1)
            ktk = jnp.einsum("uvgco,uvgdo->uvgcd", kg, kg)         # per tap K_t K_t^T on each unit
            vh = _tap_validity(h, arch.layers[i][0], kh, s, ph).astype(np.float32)
            vw = _tap_validity(w, arch.layers[i][1], kw, s, pw).astype(np.float32)
            dj = dj + jnp.einsum("au,bv,uvgcd->abgcd", vh, vw, ktk.astype(dj.dtype))
        blocks.append(dj)
    return blocks


def monotone_scales(arch: Architecture, params, m: float, monotone: bool = True):
    """Per layer [H, W, G] the rescaling s_u = min(1, (1 - m) / ||D_u||_2) (ones if not monotone)."""
    scales = []
    for d in block_diagonal(arch, params):
        if not monotone:
            scales.append(jnp.ones(d.shape[:3], d.dtype))
            continue
        norm = jnp.linalg.eigvalsh(d)[..., -1]                   # PSD: spectral norm = top eigenvalue
        scales.append(jnp.minimum(1.0, (1.0 - m) / jnp.maximum(norm, 1e-12)))
    return scales


def coupling(arch: Architecture, params, m: float, monotone: bool = True) -> dict:
    """The arrays W is applied with: {"kernels", "blocks" (blkdiag(A^T A)), "roots" (S^{1/2} per layer,
    [H, W, G, 1]), "biases"}. Differentiable in params; computed once per solve, outside the loop."""
    blocks = block_diagonal(arch, params)
    scales = monotone_scales(arch, params, m, monotone)
    return {"kernels": params["kernels"], "blocks": blocks, "roots": [jnp.sqrt(s)[..., None] for s in scales],
            "biases": params["biases"]}


def apply_W(arch: Architecture, cp: dict, q):
    """W q = S^{1/2}(blkdiag(A^T A) - A^T A) S^{1/2} q (Eq. W) for a state tuple q of [B, H, W, G, n]."""
    u = tuple(r[None] * x for r, x in zip(cp["roots"], q))
    ata = apply_AT(arch, cp, apply_A(arch, cp, u), u)
    out = []
    for r, d, x, y in zip(cp["roots"], cp["blocks"], u, ata):
        diag = jnp.einsum("hwgcd,bhwgd->bhwgc", d, x)
        out.append(r[None] * (diag - y.reshape(x.shape)))
    return tuple(out)


def make_coupling(arch: Architecture, params, m: float, monotone: bool = True):
    """Returns (W, scales) with W a function on states (Eq. W) and scales the per-unit s_u."""
    cp = coupling(arch, params, m, monotone)
    return (lambda q: apply_W(arch, cp, q)), [r[..., 0] ** 2 for r in cp["roots"]]


def dense_matrix(linear_fn, arch: Architecture, dtype=jnp.float32) -> jnp.ndarray:
    """Materialises a linear map on states as a [d, d] matrix (layers flattened in order); tests only."""
    d = arch.dim
    eye = jnp.eye(d, dtype=dtype)
    return jax.vmap(lambda v: flatten(linear_fn(unflatten(arch, v[None])))[0])(eye).T


def flatten(q) -> jnp.ndarray:
    """Tuple of [B, ...] layers -> [B, d]."""
    return jnp.concatenate([x.reshape(x.shape[0], -1) for x in q], axis=1)


def unflatten(arch: Architecture, v) -> tuple:
    """[B, d] -> tuple of [B, H, W, G, n]."""
    out, start = [], 0
    for layer in arch.layers:
        size = int(np.prod(layer))
        out.append(v[:, start:start + size].reshape((v.shape[0],) + tuple(layer)))
        start += size
    return tuple(out)
