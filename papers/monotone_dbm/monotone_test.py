"""The monotone parameterisation: exact blkdiag(A^T A) of strided convolutions, hollow, symmetric, I - W >= mI."""
import jax
import jax.numpy as jnp
import numpy as np

from papers.monotone_dbm import monotone

ARCH = monotone.Architecture(layers=((6, 6, 1, 3), (3, 3, 2, 2), (1, 1, 1, 4)),
                             couplings=((0, 0, 3), (1, 0, 3), (1, 1, 3), (2, 1, 1), (2, 2, 1)))


def _unit_blocks(M, arch):
    out, off = [], 0
    for h, w, g, n in arch.layers:
        for u in range(h * w * g):
            i = off + u * n
            out.append(M[i:i + n, i:i + n])
        off += h * w * g * n
    return out


def _params(seed: int = 0):
    """float64 parameters drawn on the host: kernels N(0, 2^2 / fan_in) (scale 2: not monotone unscaled), biases
    N(0, 0.1^2), the distribution of ``monotone.init_params(ARCH, key, scale=2.0)``."""
    rng = np.random.default_rng(seed)
    shapes = jax.eval_shape(lambda: monotone.init_params(ARCH, jax.random.PRNGKey(0)))
    return {"kernels": {name: rng.normal(size=s.shape) * 2.0 / np.sqrt(np.prod(s.shape[:3]))
                        for name, s in shapes["kernels"].items()},
            "biases": [0.1 * rng.normal(size=s.shape) for s in shapes["biases"]]}


@jax.jit
def _everything(p, m):
    """One compiled program: the materialised A, blkdiag(A^T A), A^T r, and (W, scales) with and without the
    rescaling."""
    a_flat = lambda v: jnp.concatenate(
        [x.reshape(-1) for x in monotone.apply_A(ARCH, p, monotone.unflatten(ARCH, v[None]))])
    A = jax.jacfwd(a_flat)(jnp.zeros(ARCH.dim, jnp.float64))
    ones = monotone.unflatten(ARCH, jnp.ones((1, ARCH.dim), jnp.float64))
    r = monotone.apply_A(ARCH, p, ones)
    at = monotone.flatten(monotone.apply_AT(ARCH, p, r, ones))[0]
    r_flat = jnp.concatenate([x.reshape(-1) for x in r])
    return A, monotone.block_diagonal(ARCH, p), at, r_flat, (_dense_W(p, m, True), _dense_W(p, m, False))


def test_block_diagonal_and_monotone_coupling():
    with jax.enable_x64(True):
        m = 0.1
        A, diag_blocks, at, r, both = jax.device_get(_everything(_params(), m))
        ata = A.T @ A                                         # independent: the materialised matrix
        blocks = [blk for b in diag_blocks for blk in b.reshape(-1, b.shape[-1], b.shape[-1])]
        for ours, ref in zip(blocks, _unit_blocks(ata, ARCH), strict=True):
            np.testing.assert_allclose(ours, ref, atol=1e-12)
        # A^T via linear_transpose is the matrix transpose
        np.testing.assert_allclose(at, A.T @ r, atol=1e-10)
        for mono, (W, scales) in zip((True, False), both):
            np.testing.assert_allclose(W, W.T, atol=1e-12)
            assert max(np.abs(b).max() for b in _unit_blocks(W, ARCH)) < 1e-12      # hollow
            s = np.concatenate([np.repeat(x.reshape(-1), n) for x, (_, _, _, n) in zip(scales, ARCH.layers)])
            np.testing.assert_allclose(W, np.sqrt(s)[:, None] * (_blockdiag(ata, ARCH) - ata) * np.sqrt(s)[None],
                                       atol=1e-10)
            lam = np.linalg.eigvalsh(np.eye(ARCH.dim) - W).min()
            if mono:
                assert lam >= m - 1e-10
                assert scales[0].max() < 1.0                      # the rescaling was active
            else:
                assert lam < 0                                    # without it: not monotone at this scale


def _dense_W(p, m, mono):
    Wfn, scales = monotone.make_coupling(ARCH, p, m, mono)
    return monotone.dense_matrix(Wfn, ARCH, jnp.float64), scales


def _blockdiag(M, arch):
    out = np.zeros_like(M)
    off = 0
    for h, w, g, n in arch.layers:
        for u in range(h * w * g):
            i = off + u * n
            out[i:i + n, i:i + n] = M[i:i + n, i:i + n]
        off += h * w * g * n
    return out
