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


def test_block_diagonal_and_monotone_coupling():
    with jax.enable_x64(True):
        p = monotone.init_params(ARCH, jax.random.PRNGKey(0), scale=2.0, dtype=jnp.float64)
        a_flat = lambda v: jnp.concatenate(
            [x.reshape(-1) for x in monotone.apply_A(ARCH, p, monotone.unflatten(ARCH, v[None]))])
        A = np.asarray(jax.jit(jax.jacfwd(a_flat))(jnp.zeros(ARCH.dim)))
        ata = A.T @ A                                         # independent: the materialised matrix
        blocks = [blk for b in monotone.block_diagonal(ARCH, p)
                  for blk in np.asarray(b).reshape(-1, b.shape[-1], b.shape[-1])]
        for ours, ref in zip(blocks, _unit_blocks(ata, ARCH), strict=True):
            np.testing.assert_allclose(ours, ref, atol=1e-12)
        # A^T via linear_transpose is the matrix transpose
        r = monotone.apply_A(ARCH, p, monotone.unflatten(ARCH, jnp.ones((1, ARCH.dim))))
        at = monotone.flatten(monotone.apply_AT(ARCH, p, r, monotone.unflatten(ARCH, jnp.ones((1, ARCH.dim)))))
        np.testing.assert_allclose(np.asarray(at[0]), A.T @ np.concatenate([np.asarray(x).reshape(-1) for x in r]),
                                   atol=1e-10)
        m = 0.1
        both = jax.jit(lambda p: (_dense_W(p, m, True), _dense_W(p, m, False)))(p)     # one compile
        for mono, (W, scales) in zip((True, False), both):
            W = np.asarray(W)
            np.testing.assert_allclose(W, W.T, atol=1e-12)
            assert max(np.abs(b).max() for b in _unit_blocks(W, ARCH)) < 1e-12      # hollow
            s = np.concatenate([np.repeat(np.asarray(x).reshape(-1), n) for x, (_, _, _, n) in zip(scales, ARCH.layers)])
            np.testing.assert_allclose(W, np.sqrt(s)[:, None] * (_blockdiag(ata, ARCH) - ata) * np.sqrt(s)[None],
                                       atol=1e-10)
            lam = np.linalg.eigvalsh(np.eye(ARCH.dim) - W).min()
            if mono:
                assert lam >= m - 1e-10
                assert np.asarray(scales[0]).max() < 1.0          # the rescaling was active
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
