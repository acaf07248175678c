"""Mean-field fixed points: FB splitting solves q = softmax(Wq+b) (clamped), Anderson and Picard agree, and the
implicit gradient equals unrolled differentiation and finite differences."""
import functools

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np

from papers.monotone_dbm import inference, monotone

ARCH = monotone.Architecture(layers=((5, 5, 1, 3), (1, 1, 2, 3)), couplings=((0, 0, 3), (1, 0, 1), (1, 1, 1)))
ALPHA, M = 0.5, 0.1


def _setup():
    p = monotone.init_params(ARCH, jax.random.PRNGKey(0), scale=3.0, bias_scale=0.5, dtype=jnp.float64)
    bins = jax.random.randint(jax.random.PRNGKey(1), (2, 5, 5), 0, 3)
    data = jax.nn.one_hot(bins, 3, dtype=jnp.float64)[:, :, :, None, :]
    mask = jax.random.bernoulli(jax.random.PRNGKey(2), 0.5, (2, 5, 5, 1, 1)).astype(jnp.float64)
    return p, (data, mask)


def _step(cp, ctx, z):
    q = monotone.unflatten(ARCH, z)
    return monotone.flatten(inference.fb_step(lambda x: monotone.apply_W(ARCH, cp, x), cp["biases"], q, ALPHA, *ctx))


def _z0():
    return monotone.flatten(inference.uniform_state(ARCH, 2, jnp.float64))


def _loss_implicit(p, ctx, target):
    """(<z*, target>, z*) with z* the implicit-gradient fixed point."""
    z = inference.fixed_point(_step, monotone.coupling(ARCH, p, M), ctx, _z0(), (5, 1e-10, 300, 1e-13))
    return jnp.sum(z * target), z


@functools.lru_cache(maxsize=None)
def _value_and_grad():
    """One compiled (loss, z*), grad for both tests (compiling the solver is most of their time)."""
    return jax.jit(jax.value_and_grad(_loss_implicit, has_aux=True))


def _target():
    return jax.random.normal(jax.random.PRNGKey(3), (2, ARCH.dim), jnp.float64)


def test_fixed_point_is_mean_field_and_solvers_agree():
    with jax.enable_x64(True):
        p, ctx = _setup()
        cp = monotone.coupling(ARCH, p, M)
        (_, za), _ = _value_and_grad()(p, ctx, _target())                 # Anderson from the uniform start
        res = jnp.linalg.norm(_step(cp, ctx, za) - za, axis=-1) / jnp.linalg.norm(za, axis=-1)
        assert float(jnp.max(res)) < 1e-11
        # a second, independent solver (plain Picard iteration of the FB step) from a random start
        zr = monotone.flatten(inference.random_state(ARCH, jax.random.PRNGKey(7), 2, jnp.float64))
        zp, ip = jax.jit(lambda z0: inference.picard(lambda z: _step(cp, ctx, z), z0, max_iter=3000, tol=1e-12))(zr)
        assert float(ip.residual) < 1e-11
        np.testing.assert_allclose(np.asarray(za), np.asarray(zp), atol=1e-9)
        q = monotone.unflatten(ARCH, za)
        mf = inference.naive_step(lambda x: monotone.apply_W(ARCH, cp, x), cp["biases"], q, *ctx)
        np.testing.assert_allclose(np.asarray(monotone.flatten(mf)), np.asarray(za), atol=1e-9)


def test_implicit_gradient_matches_unrolled_and_finite_differences():
    with jax.enable_x64(True):
        p, ctx = _setup()
        z0, target = _z0(), _target()

        def loss_unrolled(p):
            cp = monotone.coupling(ARCH, p, M)
            return jnp.sum(jax.lax.fori_loop(0, 400, lambda i, z: _step(cp, ctx, z), z0) * target)

        value_and_grad = _value_and_grad()
        _, gi = value_and_grad(p, ctx, target)
        gu = jax.jit(jax.grad(loss_unrolled))(p)
        for a, b in zip(jax.tree.leaves(gi), jax.tree.leaves(gu)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-9)
        # finite differences of the loss along a random direction
        flat, unravel = jax.flatten_util.ravel_pytree(p)
        v = jax.random.normal(jax.random.PRNGKey(4), flat.shape, jnp.float64)
        eps = 1e-5
        f = lambda x: value_and_grad(unravel(x), ctx, target)[0][0]
        fd = (f(flat + eps * v) - f(flat - eps * v)) / (2 * eps)
        np.testing.assert_allclose(float(jnp.dot(jax.flatten_util.ravel_pytree(gi)[0], v)), float(fd), rtol=1e-6)
