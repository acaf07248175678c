"""Mean-field fixed points: FB splitting solves q = softmax(Wq+b) (clamped), Anderson and Picard agree, and the
implicit gradient equals unrolled differentiation and finite differences.

Compilation is most of these tests' time, so the random problem is drawn with NumPy, each check is one jitted
program: the two tests share one compiled implicit-gradient solve with the checks at its solution."""
import jax
import jax.numpy as jnp
import numpy as np

from papers.monotone_dbm import inference, monotone

ARCH = monotone.Architecture(layers=((5, 5, 1, 3), (1, 1, 2, 3)), couplings=((0, 0, 3), (1, 0, 1), (1, 1, 1)))
ALPHA, M = 0.5, 0.1


def _setup(seed: int = 0):
    """(params, (data, mask), target, random start) in float64, drawn on the host (nothing to compile).

    Kernels N(0, 3^2 / fan_in) (scale 3: the monotone rescaling is active), biases N(0, 0.5^2), as
    ``monotone.init_params(ARCH, key, scale=3.0, bias_scale=0.5)`` would draw them."""
    rng = np.random.default_rng(seed)
    shapes = jax.eval_shape(lambda: monotone.init_params(ARCH, jax.random.PRNGKey(0), dtype=jnp.float32))
    p = {"kernels": {name: rng.normal(size=s.shape) * 3.0 / np.sqrt(np.prod(s.shape[:3]))
                     for name, s in shapes["kernels"].items()},
         "biases": [0.5 * rng.normal(size=s.shape) for s in shapes["biases"]]}
    bins = rng.integers(0, 3, (2, 5, 5))
    data = np.eye(3)[bins][:, :, :, None, :]
    mask = (rng.random((2, 5, 5, 1, 1)) < 0.5).astype(np.float64)
    target = rng.normal(size=(2, ARCH.dim))
    logits = [3.0 * rng.normal(size=(2,) + layer) for layer in ARCH.layers]        # random points of the simplices
    zr = np.concatenate([(np.exp(x) / np.exp(x).sum(-1, keepdims=True)).reshape(2, -1) for x in logits], 1)
    return p, (data, mask), target, zr


def _step(cp, ctx, z):
    q = monotone.unflatten(ARCH, z)
    return monotone.flatten(inference.fb_step(lambda x: monotone.apply_W(ARCH, cp, x), cp["biases"], q, ALPHA, *ctx))


def _z0():
    return monotone.flatten(inference.uniform_state(ARCH, 2, jnp.float64))


def _loss_implicit(p, ctx, target):
    """(<z*, target>, z*) with z* the implicit-gradient fixed point."""
    z = inference.fixed_point(_step, monotone.coupling(ARCH, p, M), ctx, _z0(), (5, 1e-10, 300, 1e-13))
    return jnp.sum(z * target), z


def _independent_checks(p, ctx, za, zr):
    """At the Anderson solution za: its FB residual, one naive mean-field step from it, and a second,
    independent solver (plain Picard iteration of the FB step) from the random start zr."""
    cp = monotone.coupling(ARCH, p, M)
    res = jnp.linalg.norm(_step(cp, ctx, za) - za, axis=-1) / jnp.linalg.norm(za, axis=-1)
    zp, ip = inference.picard(lambda z: _step(cp, ctx, z), zr, max_iter=3000, tol=1e-12)
    mf = inference.naive_step(lambda x: monotone.apply_W(ARCH, cp, x), cp["biases"], monotone.unflatten(ARCH, za),
                              *ctx)
    return res, zp, ip.residual, monotone.flatten(mf)


@jax.jit
def _solve(p, ctx, target, zr):
    """((<z*, target>, z*), implicit gradient, checks at z*): one compiled program for both tests (compiling
    the solver is most of their time; one program compiles faster than two)."""
    (loss, za), grad = jax.value_and_grad(_loss_implicit, has_aux=True)(p, ctx, target)
    return (loss, za), grad, _independent_checks(p, ctx, za, zr)


def test_fixed_point_is_mean_field_and_solvers_agree():
    with jax.enable_x64(True):
        p, ctx, target, zr = _setup()
        (_, za), _, checks = _solve(p, ctx, target, zr)                 # Anderson from the uniform start
        res, zp, picard_res, mf = jax.device_get(checks)
        za = np.asarray(za)
        assert res.max() < 1e-11
        assert picard_res < 1e-11
        assert np.abs(np.asarray(zr) - za).max() > 0.1                  # Picard really starts elsewhere
        np.testing.assert_allclose(za, zp, atol=1e-9)
        np.testing.assert_allclose(mf, za, atol=1e-9)                   # q* = softmax(W q* + b), clamped


def test_implicit_gradient_matches_unrolled_and_finite_differences():
    with jax.enable_x64(True):
        p, ctx, target, zr = _setup()
        z0 = _z0()

        @jax.jit
        def grad_unrolled(p, ctx, target):
            def loss(p):
                cp = monotone.coupling(ARCH, p, M)
                return jnp.sum(jax.lax.fori_loop(0, 400, lambda i, z: _step(cp, ctx, z), z0) * target)
            return jax.grad(loss)(p)

        gi = jax.device_get(_solve(p, ctx, target, zr)[1])
        gu = jax.device_get(grad_unrolled(p, ctx, target))
        for a, b in zip(jax.tree.leaves(gi), jax.tree.leaves(gu), strict=True):
            np.testing.assert_allclose(a, b, atol=1e-9)
        # finite differences of the loss along a random direction (host-side arithmetic; the perturbed
        # losses reuse the compiled solve)
        leaves, treedef = jax.tree.flatten(p)
        rng = np.random.default_rng(4)
        v = [rng.normal(size=np.shape(x)) for x in leaves]
        eps = 1e-5
        f = lambda s: float(_solve(jax.tree.unflatten(treedef, [x + s * eps * d for x, d in zip(leaves, v)]),
                                   ctx, target, zr)[0][0])
        fd = (f(1.0) - f(-1.0)) / (2 * eps)
        directional = sum(float(np.sum(g * d)) for g, d in zip(jax.tree.leaves(gi), v))
        np.testing.assert_allclose(directional, fd, rtol=1e-6)
