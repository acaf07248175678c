"""The experiments behind the claims; each returns a dict of numpy arrays (saved in the checkpointed state).

* ``feature_movement``: SGD on a 1-hidden-layer ReLU MLP on digits at several widths in μP and NTK;
  RMS(h_T - h_0) / RMS(h_0) of the hidden pre-activations on a fixed probe batch (Sec. 2/5, Fig. 1 idea).
* ``lr_transfer``: Adam on a 2-hidden-layer ReLU MLP on digits, a learning-rate grid x widths x seeds,
  in SP and μP (the paper's Sec. 5 / Tensor Programs V's transfer effect); final training loss.
* ``maml``: first-order MAML with linear 1-hidden-layer networks (μP, NTK) at several widths, and
  the exact μP-infinity, NTK-infinity and GP-infinity limits (``linear_limits``) on the same tasks (Sec. 9.1).
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from papers.mup_feature_learning import fewshot as fs
from papers.mup_feature_learning import linear_limits as ll
from papers.mup_feature_learning import parametrization as pz


def digits_xy() -> tuple[np.ndarray, np.ndarray]:
    from common import data as data_lib
    imgs, labels = data_lib.load_digits()
    x = imgs.reshape(len(imgs), -1).astype(np.float64)
    x = (x - x.mean(0)) / (x.std() + 1e-8)
    return x.astype(np.float32), labels.astype(np.int32)


def _batch_indices(key, n_data: int, steps: int, batch: int):
    return jax.random.randint(key, (steps, batch), 0, n_data)


# ----------------------------------------------------------------------------- claim 1

def feature_movement(c, seed: int) -> dict:
    """Relative feature movement after ``c.steps`` SGD steps, [param, width, seed]; also final train loss."""
    x, y = digits_xy()
    x, y = jnp.asarray(x), jnp.asarray(y)
    key = jax.random.PRNGKey(seed)
    idx = _batch_indices(jax.random.fold_in(key, 1), len(x), c.steps, c.batch)
    probe = x[:c.probe]
    move = np.zeros((len(c.parametrizations), len(c.widths), c.seeds))
    loss = np.zeros_like(move)
    for i, pname in enumerate(c.parametrizations):
        for j, n in enumerate(c.widths):
            model = pz.AbcMLP(width=n, depth=1, out_dim=10, parametrization=pname, base_width=c.base_width)
            keys = jax.random.split(jax.random.fold_in(key, 2), c.seeds)   # same init keys for every param
            m, l = _feature_movement_one(model, pname, n, c.base_width, c.lr, keys, x, y, idx, probe)
            move[i, j], loss[i, j] = np.asarray(m), np.asarray(l)
    return {"movement": move, "final_loss": loss}


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _feature_movement_one(model, pname, width, base_width, lr, keys, x, y, idx, probe):
    def run(k):
        params = pz.init_mlp(model, k, x.shape[1])
        scales = pz.lr_scale_tree(params, pname, width, base_width, "sgd")
        loss_fn = lambda p, b: pz.softmax_xent(model.apply({"params": p}, x[b]), y[b])

        def body(p, b):
            return pz.sgd_update(p, jax.grad(loss_fn)(p, b), lr, scales), None

        final, _ = jax.lax.scan(body, params, idx)
        h0 = model.apply({"params": params}, probe, return_features=True)[1][-1]
        hT = model.apply({"params": final}, probe, return_features=True)[1][-1]
        rms = lambda a: jnp.sqrt(jnp.mean(a ** 2))
        return rms(hT - h0) / rms(h0), pz.softmax_xent(model.apply({"params": final}, x), y)

    return jax.vmap(run)(keys)


# ----------------------------------------------------------------------------- claim 2

def lr_transfer(c, seed: int) -> dict:
    """Final training loss [param, width, lr, seed] of Adam runs over the learning-rate grid 2^log2_lrs."""
    x, y = digits_xy()
    x, y = jnp.asarray(x), jnp.asarray(y)
    key = jax.random.PRNGKey(seed)
    idx = _batch_indices(jax.random.fold_in(key, 3), len(x), c.steps, c.batch)
    lrs = 2.0 ** np.asarray(c.log2_lrs, np.float64)
    out = np.zeros((len(c.parametrizations), len(c.widths), len(lrs), c.seeds))
    for i, pname in enumerate(c.parametrizations):
        for j, n in enumerate(c.widths):
            model = pz.AbcMLP(width=n, depth=c.depth, out_dim=10, parametrization=pname, base_width=c.base_width)
            keys = jax.random.split(jax.random.fold_in(key, 4), c.seeds)
            out[i, j] = np.asarray(_lr_grid_one(model, pname, n, c.base_width, jnp.asarray(lrs, jnp.float32),
                                                keys, x, y, idx))
    return {"loss": out, "lrs": lrs}


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _lr_grid_one(model, pname, width, base_width, lrs, keys, x, y, idx):
    def run(lr, k):
        params = pz.init_mlp(model, k, x.shape[1])
        scales = pz.lr_scale_tree(params, pname, width, base_width, "adam")
        loss_fn = lambda p, b: pz.softmax_xent(model.apply({"params": p}, x[b]), y[b])

        def body(carry, b):
            p, s = carry
            p, s = pz.adam_update(p, jax.grad(loss_fn)(p, b), s, lr, scales)
            return (p, s), None

        (final, _), _ = jax.lax.scan(body, (params, pz.adam_init(params)), idx)
        return pz.softmax_xent(model.apply({"params": final}, x), y)

    return jax.vmap(lambda lr: jax.vmap(lambda k: run(lr, k))(keys))(lrs)


# ----------------------------------------------------------------------------- claims 3 and 4

def _sampler(c, task_seed: int):
    """(sample_train(key, B), sample_test(key, B), in_dim) for the configured task family."""
    if c.family == "digits":
        pool = jnp.asarray(fs.digits_by_class())
        tr, te = jnp.asarray(c.train_classes), jnp.asarray(c.test_classes)
        return (lambda k, b: fs.class_pool_tasks(k, pool, tr, c.n_way, c.k_shot, c.q_query, b),
                lambda k, b: fs.class_pool_tasks(k, pool, te, c.n_way, c.k_shot, c.q_query, b), pool.shape[-1])
    if c.family == "synthetic":
        proj = jnp.asarray(fs.synthetic_projection(task_seed, c.in_dim, c.latent_dim))
        f = lambda k, b: fs.synthetic_tasks(k, proj, c.n_way, c.k_shot, c.q_query, b, c.within_std, c.noise_std)
        return f, f, c.in_dim
    if c.family == "omniglot":
        from papers.mup_feature_learning import data as data_mod
        pool, n_train = data_mod.omniglot_pool(c.data_dir, c.image_size)
        tr, te = jnp.arange(n_train), jnp.arange(n_train, pool.shape[0])
        return (lambda k, b: fs.class_pool_tasks(k, pool, tr, c.n_way, c.k_shot, c.q_query, b),
                lambda k, b: fs.class_pool_tasks(k, pool, te, c.n_way, c.k_shot, c.q_query, b), pool.shape[-1])
    raise ValueError(f"unknown few-shot family {c.family!r}; expected digits, synthetic or omniglot")


def maml(c, seed: int) -> dict:
    """FO-MAML of finite linear networks (μP and NTK at ``c.widths``) and of the three exact limits."""
    sample_train, sample_test, d = _sampler(c, seed)
    k = c.n_way
    key = jax.random.PRNGKey(seed)
    task_key = jax.random.fold_in(key, 11)                 # the same meta-training tasks for every model
    test = sample_test(jax.random.fold_in(key, 12), c.test_tasks)
    init_keys = jax.random.split(jax.random.fold_in(key, 13), c.seeds)
    out = {}

    # muP-infinity (deterministic: one run)
    mc = ll.mup_limit_constants(c.base_width, d, c.out_scale)
    C0 = ll.mup_limit_init(d, k, mc["sigma_u"], mc["sigma_v"])
    C, losses, accs = _limit_train(C0, task_key, sample_train, test, c, mc["kappa_u"], mc["kappa_v"])
    out["mup_inf/acc"], out["mup_inf/loss"], out["mup_inf/acc_curve"] = accs[-1], losses, accs
    out["mup_inf/acc_init"] = accs[0]
    M_inf = np.asarray(ll.readout(C, d))
    out["mup_inf/M"] = M_inf

    # NTK-infinity and GP-infinity: linear model in the input with a GP initial function
    nc = ll.ntk_limit_constants(c.base_width, d, c.out_scale)
    for name, kappa in (("ntk_inf", nc["kappa_ntk"]), ("gp_inf", nc["kappa_gp"])):
        M0 = nc["sigma_M"] * jax.vmap(lambda kk: jax.random.normal(kk, (d, k)))(init_keys)
        params = {"M": M0}
        scales = {"M": jnp.asarray(kappa, jnp.float32)}
        acc, loss = _network_train(fs.linear_model_apply, params, scales, task_key, sample_train, test, c)
        out[f"{name}/acc"], out[f"{name}/final_loss"] = acc, loss

    # finite networks
    for pname in c.parametrizations:
        accs, errs, losses = [], [], []
        for n in c.widths:
            model = pz.AbcMLP(width=n, depth=1, out_dim=k, parametrization=pname, base_width=c.base_width,
                              activation=lambda h: h, out_scale=c.out_scale)
            params = jax.vmap(lambda kk: pz.init_mlp(model, kk, d))(init_keys)
            scales = pz.lr_scale_tree(jax.tree.map(lambda a: a[0], params), pname, n, c.base_width, "sgd")
            apply = lambda p, x, model=model: model.apply({"params": p}, x)
            acc, loss, final = _network_train(apply, params, scales, task_key, sample_train, test, c,
                                              return_params=True)
            W = jax.vmap(lambda p: pz.effective_weights(p, pname, n, c.base_width))(final)
            M = np.asarray(jnp.einsum("sdn,snk->sdk", W["w0"], W["w1"]))
            errs.append(np.linalg.norm((M - M_inf).reshape(c.seeds, -1), axis=1) / np.linalg.norm(M_inf))
            accs.append(acc)
            losses.append(loss)
        out[f"{pname}/acc"] = np.stack(accs)            # [width, seed]
        out[f"{pname}/err_vs_mup_inf"] = np.stack(errs)  # [width, seed]
        out[f"{pname}/final_loss"] = np.stack(losses)
    return {k_: np.asarray(v) for k_, v in out.items()}


def _limit_train(C0, task_key, sample_train, test, c, kappa_u, kappa_v):
    chunk = max(1, c.eval_every)
    n_chunks = c.steps // chunk

    @jax.jit
    def run_chunk(C, start):
        def body(C, s):
            tasks = sample_train(jax.random.fold_in(task_key, s), c.meta_batch)
            return ll.limit_fomaml_step(C, tasks, c.inner_lr, c.inner_steps, c.outer_lr, kappa_u, kappa_v)
        return jax.lax.scan(body, C, start + jnp.arange(chunk))

    acc_fn = jax.jit(lambda C: ll.limit_fewshot_accuracy(C, test, c.inner_lr, c.inner_steps, kappa_u, kappa_v))
    C, losses, accs = C0, [], [float(acc_fn(C0))]
    for i in range(n_chunks):
        C, l = run_chunk(C, i * chunk)
        losses.append(np.asarray(l))
        accs.append(float(acc_fn(C)))
    return C, np.concatenate(losses), np.asarray(accs)


def _network_train(apply, params, scales, task_key, sample_train, test, c, return_params: bool = False):
    """FO-MAML of a batch of models (leading seed axis in params) on shared tasks; test accuracy per seed."""

    @jax.jit
    def run(params):
        def body(p, s):
            tasks = sample_train(jax.random.fold_in(task_key, s), c.meta_batch)
            return jax.vmap(lambda q: fs.fomaml_step(q, tasks, apply, scales, c.inner_lr, c.inner_steps,
                                                      c.outer_lr))(p)
        final, losses = jax.lax.scan(body, params, jnp.arange(c.steps))
        acc = jax.vmap(lambda q: fs.fewshot_accuracy(q, test, apply, scales, c.inner_lr, c.inner_steps))(final)
        return final, acc, losses[-max(1, c.steps // 10):].mean(0)

    final, acc, loss = run(params)
    return (np.asarray(acc), np.asarray(loss), final) if return_params else (np.asarray(acc), np.asarray(loss))


# ----------------------------------------------------------------------------- Word2Vec

def _w2v_data(c, seed: int):
    from papers.mup_feature_learning import word2vec as w2v
    if c.corpus == "generated":
        sents, vocab, questions = w2v.generated_corpus(seed, c.num_sentences)
        pairs, tokens = w2v.skipgram_pairs(sents, c.window), sents
    elif c.corpus == "text8":
        import os
        from papers.mup_feature_learning import data as data_mod
        tokens, vocab = data_mod.text8_tokens(c.data_dir, c.max_vocab)
        questions = data_mod.read_analogies(os.path.join(c.data_dir, "questions-words.txt"), vocab)
        pairs = w2v.token_pairs(tokens, c.window)
    else:
        raise ValueError(f"unknown w2v.corpus {c.corpus!r}; expected generated or text8")
    return pairs, w2v.unigram_table(tokens, len(vocab)), questions, len(vocab)


def word2vec(c, seed: int) -> dict:
    """Skip-gram negative sampling: μP∞ limit and finite μP / NTK networks; analogy accuracy and loss."""
    from papers.mup_feature_learning import word2vec as w2v
    pairs, neg_probs, questions, V = _w2v_data(c, seed)
    pairs, neg_probs, questions = jnp.asarray(pairs), jnp.asarray(neg_probs), jnp.asarray(questions)
    key = jax.random.fold_in(jax.random.PRNGKey(seed), 21)
    batch_of = lambda s: w2v.sample_batch(jax.random.fold_in(key, s), pairs, neg_probs, c.batch, c.negatives)
    onehot = lambda w: jax.nn.one_hot(w, V, dtype=jnp.float32)
    out = {}

    mc = ll.mup_limit_constants(c.base_width, V)

    @jax.jit
    def limit_run(C0):
        def body(C, s):
            w, ctx, negs = batch_of(s)
            return ll.limit_step_with_loss(C, onehot(w), lambda lg: w2v.sgns_loss(lg, ctx, negs), c.lr,
                                           mc["kappa_u"], mc["kappa_v"])
        return jax.lax.scan(body, C0, jnp.arange(c.steps))

    C, losses = limit_run(ll.mup_limit_init(V, V, mc["sigma_u"], mc["sigma_v"]))
    out["mup_inf/analogy"] = float(w2v.analogy_accuracy(C[:V, :V], questions))
    out["mup_inf/loss"] = float(np.mean(np.asarray(losses)[-max(1, c.steps // 10):]))
    out["ntk_inf/analogy"] = float(w2v.analogy_accuracy(jnp.eye(V), questions))   # embeddings never move
    init_keys = jax.random.split(jax.random.fold_in(key, 1), c.seeds)
    for pname in c.parametrizations:
        accs, final_losses = [], []
        for n in c.widths:
            model = pz.AbcMLP(width=n, depth=1, out_dim=V, parametrization=pname, base_width=c.base_width,
                              activation=lambda h: h)
            params = jax.vmap(lambda kk: pz.init_mlp(model, kk, V))(init_keys)
            scales = pz.lr_scale_tree(jax.tree.map(lambda a: a[0], params), pname, n, c.base_width, "sgd")

            @jax.jit
            def net_run(params, model=model, scales=scales):
                def body(p, s):
                    w, ctx, negs = batch_of(s)
                    def one(q):
                        lf = lambda q_: w2v.sgns_loss(model.apply({"params": q_}, onehot(w)), ctx, negs)
                        l, g = jax.value_and_grad(lf)(q)
                        return pz.sgd_update(q, g, c.lr, scales), l
                    return jax.vmap(one)(p)
                final, ls = jax.lax.scan(body, params, jnp.arange(c.steps))
                grams = jax.vmap(lambda q: q["w0"] @ q["w0"].T)(final)
                return jax.vmap(lambda g: w2v.analogy_accuracy(g, questions))(grams), ls[-max(1, c.steps // 10):].mean(0)

            acc, l = net_run(params)
            accs.append(np.asarray(acc))
            final_losses.append(np.asarray(l))
        out[f"{pname}/analogy"] = np.stack(accs)
        out[f"{pname}/loss"] = np.stack(final_losses)
    out["chance"] = 1.0 / (V - 3)
    return {k_: np.asarray(v) for k_, v in out.items()}
