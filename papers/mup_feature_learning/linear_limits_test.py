"""Tests of the exact limits of linear 1-hidden-layer networks against finite networks and closed forms."""
import jax
import jax.numpy as jnp
import numpy as np

from papers.mup_feature_learning import fewshot as fs
from papers.mup_feature_learning import linear_limits as ll
from papers.mup_feature_learning import parametrization as pz

D, K, N0 = 12, 3, 16


def _linear_net(width, p="mup", dtype=jnp.float64, key=0):
    model = pz.AbcMLP(width=width, depth=1, out_dim=K, parametrization=p, base_width=N0, activation=lambda h: h)
    params = pz.init_mlp(model, jax.random.PRNGKey(key), D, dtype)
    return model, params


def _tasks(key, num=4, s=6, q=9, dtype=jnp.float64):
    k1, k2, k3, k4 = jax.random.split(key, 4)
    return (jax.random.normal(k1, (num, s, D), dtype), jax.random.randint(k2, (num, s), 0, K),
            jax.random.normal(k3, (num, q, D), dtype), jax.random.randint(k4, (num, q), 0, K))


def _cov(params, width):
    W = pz.effective_weights(params, "mup", width, N0)
    return ll.empirical_cov(W["w0"], W["w1"])


def test_structured_transport_equals_dense_step_matrix():
    with jax.enable_x64(True):
        C = _cov(_linear_net(40)[1], 40)
        x, y = jax.random.normal(jax.random.PRNGKey(2), (5, D)), jnp.arange(5) % K
        chi = ll._chi(x @ ll.readout(C, D), y, K)
        T = ll.step_matrix(x, chi, 0.7, 0.3, 2.0)
        np.testing.assert_allclose(ll._transport(C, x.T @ chi, 0.7, 0.3, 2.0), T @ C @ T.T, rtol=1e-12, atol=1e-12)


def test_finite_mup_network_is_the_recursion_from_its_empirical_covariance():
    """SGD and FO-MAML of a width-n μP network equal the μP∞ recursion started from its empirical C_0."""
    with jax.enable_x64(True):
        n = 50
        model, params = _linear_net(n)
        c = ll.mup_limit_constants(N0, D)
        apply = lambda p, x: model.apply({"params": p}, x)
        scales = pz.lr_scale_tree(params, "mup", n, N0, "sgd")
        tasks = _tasks(jax.random.PRNGKey(4))
        x, y = tasks[0][0], tasks[1][0]

        @jax.jit
        def both(params):
            C = _cov(params, n)
            for _ in range(3):
                params, loss_net = fs.fomaml_step(params, tasks, apply, scales, 0.4, 2, 0.5)
                C, loss_lim = ll.limit_fomaml_step(C, tasks, 0.4, 2, 0.5, c["kappa_u"], c["kappa_v"])
            C2 = ll.limit_sgd_step(C, x, y, 0.9, c["kappa_u"], c["kappa_v"])
            g = jax.grad(lambda p: pz.softmax_xent(apply(p, x), y))(params)
            p2 = pz.sgd_update(params, g, 0.9, scales)
            accs = (fs.fewshot_accuracy(params, tasks, apply, scales, 0.4, 2),
                    ll.limit_fewshot_accuracy(C, tasks, 0.4, 2, c["kappa_u"], c["kappa_v"]))
            return (loss_net, loss_lim), (_cov(params, n), C), (_cov(p2, n), C2), accs, C

        losses, covs, covs2, accs, C = both(params)
        np.testing.assert_allclose(*losses, rtol=1e-10)
        np.testing.assert_allclose(*covs, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(*covs2, rtol=1e-9, atol=1e-10)
        assert float(accs[0]) == float(accs[1])
        assert float(jnp.max(jnp.abs(C - _cov(_linear_net(n)[1], n)))) > 1e-2     # training did move C


def test_wide_mup_networks_converge_to_the_limit():
    """After SGD steps, ||M_n - M_inf|| falls with width roughly like n^-1/2."""
    with jax.enable_x64(True):
        c = ll.mup_limit_constants(N0, D)
        x, y = jax.random.normal(jax.random.PRNGKey(7), (16, D)), jnp.arange(16) % K

        @jax.jit
        def train(C):
            return jax.lax.fori_loop(0, 10, lambda i, C: ll.limit_sgd_step(C, x, y, 0.5, c["kappa_u"], c["kappa_v"]), C)

        M_inf = ll.readout(train(ll.mup_limit_init(D, K, c["sigma_u"], c["sigma_v"], jnp.float64)), D)
        errs = []
        for n in (64, 1024, 16384):
            e = [float(jnp.linalg.norm(ll.readout(train(_cov(_linear_net(n, key=s)[1], n)), D) - M_inf))
                 for s in range(3)]
            errs.append(np.mean(e) / float(jnp.linalg.norm(M_inf)))
        assert errs[0] > errs[1] > errs[2]
        assert errs[2] / errs[0] < 0.2     # n^-1/2 predicts (64/16384)^(1/2) = 1/16


def test_ntk_and_nngp_closed_forms_match_wide_ntk_network():
    """Empirical (lr-weighted) NTK of a wide NTK-parametrised net and the output prior covariance."""
    n = 8192
    model, params = _linear_net(n, "ntk", jnp.float32)
    x = jax.random.normal(jax.random.PRNGKey(8), (4, D))
    scales = pz.lr_scale_tree(params, "ntk", n, N0, "sgd")
    f = lambda p: model.apply({"params": p}, x)[:, 0]
    J = jax.jacrev(f)(params)
    theta = sum(scales[k] * jnp.einsum("a...,b...->ab", J[k], J[k]) for k in J)
    np.testing.assert_allclose(theta, ll.ntk_kernel(x, x, N0), rtol=0.06, atol=0.06 * float(jnp.mean(jnp.diag(theta))))
    # NNGP: covariance over initialisations of f(x) (exact at any width for a linear net)
    small = _linear_net(64, "ntk", jnp.float32)[0]
    outs = jax.jit(jax.vmap(lambda k: small.apply(small.init(k, jnp.zeros((1, D))), x)[:, 0]))(
        jax.random.split(jax.random.PRNGKey(9), 4000))
    emp = jnp.cov(outs.T)
    K_ = ll.nngp_kernel(x, x, N0)
    np.testing.assert_allclose(emp, K_, atol=0.1 * float(jnp.mean(jnp.diag(K_))))


def test_ntk_network_approaches_linear_model_limit():
    """FO-MAML of wide NTK nets approaches FO-MAML of the NTK∞ linear model started from the same M_0."""
    with jax.enable_x64(True):
        nc = ll.ntk_limit_constants(N0, D)
        tasks = _tasks(jax.random.PRNGKey(10))
        devs = []
        for n in (64, 4096):
            model, params = _linear_net(n, "ntk")
            apply = lambda p, x, model=model: model.apply({"params": p}, x)
            scales = pz.lr_scale_tree(params, "ntk", n, N0, "sgd")

            @jax.jit
            def run(params, apply=apply, scales=scales, n=n):
                W = pz.effective_weights(params, "ntk", n, N0)
                lin = {"M": W["w0"] @ W["w1"]}
                for _ in range(3):
                    params, _ = fs.fomaml_step(params, tasks, apply, scales, 0.3, 1, 0.3)
                    lin, _ = fs.fomaml_step(lin, tasks, fs.linear_model_apply, {"M": nc["kappa_ntk"]}, 0.3, 1, 0.3)
                W = pz.effective_weights(params, "ntk", n, N0)
                return jnp.linalg.norm(W["w0"] @ W["w1"] - lin["M"]) / jnp.linalg.norm(lin["M"])

            devs.append(float(run(params)))
        assert devs[1] < devs[0] / 3
