"""Enumeration, free energy and the naive baselines against independent computations."""
import itertools

import jax
import jax.numpy as jnp
import numpy as np

from papers.monotone_dbm import analysis


def test_exact_marginals_and_kl_identity():
    with jax.enable_x64(True):
        # 6 units x 2 categories: the shapes of the smoke analyses, so the session compiles them once
        W, b = analysis.dense_model(jax.random.PRNGKey(0), 6, 2, 2.0, 1.0, 0.1, True)
        W, b = np.asarray(W), np.asarray(b)
        p, log_z = analysis.exact_marginals(jnp.asarray(W), jnp.asarray(b), 6, 2)
        # independent brute force over index tuples
        probs, states = [], []
        for idx in itertools.product(range(2), repeat=6):
            x = np.eye(2)[list(idx)].reshape(-1)
            states.append(x)
            probs.append(np.exp(0.5 * x @ W @ x + b @ x))
        probs, states = np.array(probs), np.array(states)
        np.testing.assert_allclose(float(log_z), np.log(probs.sum()), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(p), (probs / probs.sum()) @ states, atol=1e-12)
        # KL(q || p) = F(q) + log Z for a product distribution q (W hollow)
        q = np.asarray(analysis.random_starts(jax.random.PRNGKey(1), 10, 12, 2))[0]
        qx = np.prod((states * q).reshape(len(states), 6, 2).sum(-1), -1)
        kl = np.sum(qx * (np.log(qx) - np.log(probs / probs.sum())))
        np.testing.assert_allclose(float(analysis.free_energy(jnp.asarray(W), jnp.asarray(b), jnp.asarray(q)) + log_z),
                                   kl, rtol=1e-10)


def test_monotone_solution_is_the_global_minimum():
    with jax.enable_x64(True):
        W, b = analysis.dense_model(jax.random.PRNGKey(2), 6, 2, 3.0, 1.0, 0.1, True)
        q, _ = analysis.fb_solve(W, b, jnp.full((1, 12), 0.5), 2, 0.25, 1000, 1e-12)
        assert float(analysis.mf_residual(W, b, q, 2)) < 1e-9
        starts = analysis.random_starts(jax.random.PRNGKey(3), 10, 12, 2)
        qm, _ = analysis.fb_solve(W, b, starts, 2, 0.25, 1000, 1e-12)      # uniqueness: every start, one point
        np.testing.assert_allclose(np.asarray(qm), np.broadcast_to(np.asarray(q), qm.shape), atol=1e-9)
        qs = analysis.naive_sequential(W, b, starts, 2, 200)           # coordinate descent: monotone in F
        assert float(jnp.min(analysis.free_energy(W, b, qs))) >= float(analysis.free_energy(W, b, q[0])) - 1e-10
        # the same W without rescaling has several (start-dependent or oscillating) naive solutions
        Wu, bu = analysis.dense_model(jax.random.PRNGKey(2), 6, 2, 3.0, 1.0, 0.1, False)
        assert analysis.naive_fails(analysis._naive_summary(Wu, bu, starts, 2, 300))
