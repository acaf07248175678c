"""Tests of the exact limits of linear 1-hidden-layer networks against finite networks and closed forms."""
import functools

import jax
import jax.numpy as jnp
import numpy as np

from papers.mup_feature_learning import fewshot as fs
from papers.mup_feature_learning import linear_limits as ll
from papers.mup_feature_learning import parametrization as pz

D, K, N0 = 12, 3, 16


def _linear_net(width, p="mup", dtype=jnp.float64, key=0):
    model = pz.AbcMLP(width=width, depth=1, out_dim=K, parametrization=p, base_width=N0, activation=lambda h: h)
    params = pz.init_mlp(model, jax.random.PRNGKey(key), D, dtype)   # key may be traced (inside jit)
    return model, params


def _tasks(seed, num=4, s=6, q=9, dtype=np.float64):
    """Random few-shot tasks (xs, ys, xq, yq), drawn with numpy (no XLA program per draw)."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((num, s, D)).astype(dtype), rng.integers(0, K, (num, s)),
            rng.standard_normal((num, q, D)).astype(dtype), rng.integers(0, K, (num, q)))


def _cov(params, width):
    W = pz.effective_weights(params, "mup", width, N0)
    return ll.empirical_cov(W["w0"], W["w1"])


def test_structured_transport_equals_dense_step_matrix():
    with jax.enable_x64(True):
        @jax.jit
        def both(key):
            C = _cov(_linear_net(40, key=key)[1], 40)
            x, y = jax.random.normal(jax.random.PRNGKey(2), (5, D)), jnp.arange(5) % K
            chi = ll._chi(x @ ll.readout(C, D), y, K)
            T = ll.step_matrix(x, chi, 0.7, 0.3, 2.0)
            return ll._transport(C, x.T @ chi, 0.7, 0.3, 2.0), T @ C @ T.T

        structured, dense = both(0)
        np.testing.assert_allclose(structured, dense, rtol=1e-12, atol=1e-12)


def test_onehot_step_equals_dense_step_matrix():
    """``limit_step_onehot`` (g never formed, repeated rows) = T C T^T with the dense T of one-hot inputs."""
    with jax.enable_x64(True):
        V = 10                                    # d = k = V as in Word2Vec

        @jax.jit
        def both(rows, target):
            z = jax.random.normal(jax.random.PRNGKey(3), (30, 2 * V))
            C = z.T @ z / 30
            loss = lambda lg: jnp.mean(jnp.sum((lg - target) ** 2, 1))
            x = jax.nn.one_hot(rows, V, dtype=C.dtype)
            chi = jax.grad(loss)(x @ ll.readout(C, V))
            T = ll.step_matrix(x, chi, 0.7, 0.3, 2.0)
            return ll.limit_step_onehot(C, rows, V, loss, 0.7, 0.3, 2.0), T @ C @ T.T, C

        rows = jnp.asarray([1, 4, 4, 7, 1, 0])   # repeated centre words add up in g
        (fast, loss), dense, C = both(rows, jax.random.normal(jax.random.PRNGKey(4), (6, V)))
        assert float(jnp.max(jnp.abs(dense - C))) > 1e-2
        np.testing.assert_allclose(fast, dense, rtol=1e-12, atol=1e-12)


def test_finite_mup_network_is_the_recursion_from_its_empirical_covariance():
    """SGD and FO-MAML of a width-n μP network equal the μP∞ recursion started from its empirical C_0."""
    with jax.enable_x64(True):
        n = 50
        model = pz.AbcMLP(width=n, depth=1, out_dim=K, parametrization="mup", base_width=N0, activation=lambda h: h)
        c = ll.mup_limit_constants(N0, D)
        apply = lambda p, x: model.apply({"params": p}, x)
        scales = pz.lr_scale_tree({"w0": np.zeros(()), "w1": np.zeros(())}, "mup", n, N0, "sgd")

        @jax.jit
        def both(key, tasks):
            x, y = tasks[0][0], tasks[1][0]
            params = _linear_net(n, key=key)[1]
            C0 = _cov(params, n)

            def step(_, carry):
                params, C, _ = carry
                params, loss_net = fs.fomaml_step(params, tasks, apply, scales, 0.4, 2, 0.5)
                C, loss_lim = ll.limit_fomaml_step(C, tasks, 0.4, 2, 0.5, c["kappa_u"], c["kappa_v"])
                return params, C, (loss_net, loss_lim)

            params, C, losses = jax.lax.fori_loop(0, 3, step, (params, C0, (jnp.zeros(()), jnp.zeros(()))))
            C2 = ll.limit_sgd_step(C, x, y, 0.9, c["kappa_u"], c["kappa_v"])
            g = jax.grad(lambda p: pz.softmax_xent(apply(p, x), y))(params)
            p2 = pz.sgd_update(params, g, 0.9, scales)
            accs = (fs.fewshot_accuracy(params, tasks, apply, scales, 0.4, 2),
                    ll.limit_fewshot_accuracy(C, tasks, 0.4, 2, c["kappa_u"], c["kappa_v"]))
            return losses, (_cov(params, n), C), (_cov(p2, n), C2), accs, jnp.max(jnp.abs(C - C0))

        losses, covs, covs2, accs, moved = both(0, _tasks(4))
        np.testing.assert_allclose(*losses, rtol=1e-10)
        np.testing.assert_allclose(*covs, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(*covs2, rtol=1e-9, atol=1e-10)
        assert float(accs[0]) == float(accs[1])
        assert float(moved) > 1e-2     # training did move C


def test_wide_mup_networks_converge_to_the_limit():
    """After SGD steps, ||M_n - M_inf|| falls with width roughly like n^-1/2.

    The coordinates z_i = (u_i, n w_i) of a μP network are iid with a law that does not depend on n, so
    hidden units 1..n of one width-16384 network form a width-n network (one program for all widths).
    """
    with jax.enable_x64(True):
        c = ll.mup_limit_constants(N0, D)
        widths, big = (64, 1024, 16384), 16384

        def train(C, x):
            y = jnp.arange(16) % K
            return jax.lax.fori_loop(0, 10, lambda i, C: ll.limit_sgd_step(C, x, y, 0.5, c["kappa_u"], c["kappa_v"]), C)

        @jax.jit
        def rel_errors(x, seeds):       # [width], mean over 3 seeds
            M_inf = ll.readout(train(ll.mup_limit_init(D, K, c["sigma_u"], c["sigma_v"], jnp.float64), x), D)

            def errs(s):
                W = pz.effective_weights(_linear_net(big, key=s)[1], "mup", big, N0)
                out = []
                for n in widths:   # width-n network: units 1..n, readout rows rescaled so that n w_i = big w_i
                    M = ll.readout(train(ll.empirical_cov(W["w0"][:, :n], W["w1"][:n] * (big / n)), x), D)
                    out.append(jnp.linalg.norm(M - M_inf))
                return jnp.stack(out)

            return jnp.mean(jax.vmap(errs)(seeds), 0) / jnp.linalg.norm(M_inf)

        errs = np.asarray(rel_errors(jax.random.normal(jax.random.PRNGKey(7), (16, D)), jnp.arange(3)))
        assert errs[0] > errs[1] > errs[2]
        assert errs[2] / errs[0] < 0.2     # n^-1/2 predicts (64/16384)^(1/2) = 1/16


def test_ntk_and_nngp_closed_forms_match_wide_ntk_network():
    """Empirical (lr-weighted) NTK of a wide NTK-parametrised net and the output prior covariance."""
    n = 8192
    model = pz.AbcMLP(width=n, depth=1, out_dim=K, parametrization="ntk", base_width=N0, activation=lambda h: h)
    small = pz.AbcMLP(width=64, depth=1, out_dim=K, parametrization="ntk", base_width=N0, activation=lambda h: h)

    @jax.jit
    def kernels(keys):
        params = pz.init_mlp(model, keys[0], D)
        x = jax.random.normal(keys[1], (4, D))
        scales = pz.lr_scale_tree(params, "ntk", n, N0, "sgd")
        J = jax.jacrev(lambda p: model.apply({"params": p}, x)[:, 0])(params)
        theta = sum(scales[k] * jnp.einsum("a...,b...->ab", J[k], J[k]) for k in J)
        # NNGP: covariance over initialisations of f(x) (exact at any width for a linear net)
        outs = jax.vmap(lambda k: small.apply(small.init(k, jnp.zeros((1, D))), x)[:, 0])(
            jax.random.split(keys[2], 4000))
        return theta, ll.ntk_kernel(x, x, N0), jnp.cov(outs.T), ll.nngp_kernel(x, x, N0)

    theta, theta_closed, emp, K_ = kernels(jnp.stack([jax.random.PRNGKey(i) for i in (0, 8, 9)]))
    np.testing.assert_allclose(theta, theta_closed, rtol=0.06, atol=0.06 * float(jnp.mean(jnp.diag(theta))))
    np.testing.assert_allclose(emp, K_, atol=0.1 * float(jnp.mean(jnp.diag(K_))))


def test_ntk_network_approaches_linear_model_limit():
    """FO-MAML of wide NTK nets approaches FO-MAML of the NTK∞ linear model started from the same M_0."""
    with jax.enable_x64(True):
        nc = ll.ntk_limit_constants(N0, D)

        @functools.partial(jax.jit, static_argnums=0)
        def deviation(n, tasks):
            model, params = _linear_net(n, "ntk")
            apply = lambda p, x: model.apply({"params": p}, x)
            scales = pz.lr_scale_tree(params, "ntk", n, N0, "sgd")
            W = pz.effective_weights(params, "ntk", n, N0)
            lin = {"M": W["w0"] @ W["w1"]}

            def step(_, carry):
                params, lin = carry
                params, _ = fs.fomaml_step(params, tasks, apply, scales, 0.3, 1, 0.3)
                lin, _ = fs.fomaml_step(lin, tasks, fs.linear_model_apply, {"M": nc["kappa_ntk"]}, 0.3, 1, 0.3)
                return params, lin

            params, lin = jax.lax.fori_loop(0, 3, step, (params, lin))
            W = pz.effective_weights(params, "ntk", n, N0)
            return jnp.linalg.norm(W["w0"] @ W["w1"] - lin["M"]) / jnp.linalg.norm(lin["M"])

        tasks = _tasks(10)
        devs = [float(deviation(n, tasks)) for n in (64, 4096)]
        assert devs[1] < devs[0] / 3
