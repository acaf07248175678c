"""The experiments behind the claims; each returns a dict of numpy arrays (saved in the checkpointed state).

* ``feature_movement``: SGD on a 1-hidden-layer ReLU MLP on digits at several widths in μP and NTK;
  RMS(h_T - h_0) / RMS(h_0) of the hidden pre-activations on a fixed probe batch (Sec. 2/5, Fig. 1 idea).
* ``lr_transfer``: Adam on a 2-hidden-layer ReLU MLP on digits, a learning-rate grid x widths x seeds,
  in SP and μP (the paper's Sec. 5 / Tensor Programs V's transfer effect); final training loss.
* ``maml``: first-order MAML with linear 1-hidden-layer networks (μP, NTK) at several widths, and
  the exact μP-infinity, NTK-infinity and GP-infinity limits (``linear_limits``) on the same tasks (Sec. 9.1).

Compilation dominates at small sizes, so the parametrisation enters every compiled program as arrays
(``pz.abc_arrays``: per-layer multipliers, init-std and learning-rate factors) rather than as Python
constants: one program per width serves all parametrisations; learning rates and kappas are arrays too.
Random keys are passed as arguments (a constant key inside ``jit`` gets constant-folded, slowly).
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
    imgs, labels = fs.raw_digits()
    x = imgs.reshape(len(imgs), -1).astype(np.float64)
    x = (x - x.mean(0)) / (x.std() + 1e-8)
    return x.astype(np.float32), labels.astype(np.int32)


def _batch_indices(key, n_data: int, steps: int, batch: int):
    return jax.random.randint(key, (steps, batch), 0, n_data)


# ----------------------------------------------------------------------------- claim 1

def feature_movement(c, seed: int) -> dict:
    """Relative feature movement after ``c.steps`` SGD steps, [param, width, seed]; also final train loss."""
    x, y = digits_xy()
    probe = jnp.asarray(x[:c.probe])
    x, y = jnp.asarray(x), jnp.asarray(y)
    key = jax.random.PRNGKey(seed)
    idx = _batch_indices(jax.random.fold_in(key, 1), len(x), c.steps, c.batch)
    keys = jax.random.split(jax.random.fold_in(key, 2), c.seeds)   # same init keys for every param
    move = np.zeros((len(c.parametrizations), len(c.widths), c.seeds))
    loss = np.zeros_like(move)
    for i, pname in enumerate(c.parametrizations):
        for j, n in enumerate(c.widths):
            abc = pz.abc_arrays(pname, 2, n, c.base_width, "sgd")
            m, l = _feature_movement_one(abc, c.lr, keys, x, y, idx, probe, width=n, base_width=c.base_width)
            move[i, j], loss[i, j] = np.asarray(m), np.asarray(l)
    return {"movement": move, "final_loss": loss}


@functools.partial(jax.jit, static_argnames=("width", "base_width"))
def _feature_movement_one(abc, lr, keys, x, y, idx, probe, *, width, base_width):
    """One compiled program per width: the parametrisation enters only through the arrays in ``abc``."""
    apply = lambda p, xx, **kw: pz.abc_apply(p, xx, abc["multiplier"], "relu", **kw)

    def run(k):
        params = pz.init_abc_mlp(k, x.shape[1], width, 1, 10, base_width, abc["init_std"])
        scales = pz.lr_tree(params, abc["lr"])
        loss_fn = lambda p, b: pz.softmax_xent(apply(p, x[b]), y[b])

        def body(p, b):
            return pz.sgd_update(p, jax.grad(loss_fn)(p, b), lr, scales), None

        final, _ = jax.lax.scan(body, params, idx)
        h0 = apply(params, probe, return_features=True)[1][-1]
        hT = apply(final, probe, return_features=True)[1][-1]
        rms = lambda a: jnp.sqrt(jnp.mean(a ** 2))
        return rms(hT - h0) / rms(h0), pz.softmax_xent(apply(final, x), y)

    return jax.vmap(run)(keys)


# ----------------------------------------------------------------------------- claim 2

def lr_transfer(c, seed: int) -> dict:
    """Final training loss [param, width, lr, seed] of Adam runs over the learning-rate grid 2^log2_lrs."""
    x, y = digits_xy()
    x, y = jnp.asarray(x), jnp.asarray(y)
    key = jax.random.PRNGKey(seed)
    idx = _batch_indices(jax.random.fold_in(key, 3), len(x), c.steps, c.batch)
    lrs = 2.0 ** np.asarray(c.log2_lrs, np.float64)
    keys = jax.random.split(jax.random.fold_in(key, 4), c.seeds)
    out = np.zeros((len(c.parametrizations), len(c.widths), len(lrs), c.seeds))
    for i, pname in enumerate(c.parametrizations):
        for j, n in enumerate(c.widths):
            abc = pz.abc_arrays(pname, c.depth + 1, n, c.base_width, "adam")
            out[i, j] = np.asarray(_lr_grid_one(abc, jnp.asarray(lrs.astype(np.float32)), keys, x, y, idx,
                                                width=n, depth=c.depth, base_width=c.base_width))
    return {"loss": out, "lrs": lrs}


@functools.partial(jax.jit, static_argnames=("width", "depth", "base_width"))
def _lr_grid_one(abc, lrs, keys, x, y, idx, *, width, depth, base_width):
    apply = lambda p, xx: pz.abc_apply(p, xx, abc["multiplier"], "relu")

    def run(lr, k):
        params = pz.init_abc_mlp(k, x.shape[1], width, depth, 10, base_width, abc["init_std"])
        scales = pz.lr_tree(params, abc["lr"])
        loss_fn = lambda p, b: pz.softmax_xent(apply(p, x[b]), y[b])

        def body(carry, b):
            p, s = carry
            p, s = pz.adam_update(p, jax.grad(loss_fn)(p, b), s, lr, scales)
            return (p, s), None

        (final, _), _ = jax.lax.scan(body, (params, pz.adam_init(params)), idx)
        return pz.softmax_xent(apply(final, x), y)

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
        pool = jnp.asarray(pool)                            # indexed by traced class ids
        tr, te = jnp.arange(n_train), jnp.arange(n_train, pool.shape[0])
        return (lambda k, b: fs.class_pool_tasks(k, pool, tr, c.n_way, c.k_shot, c.q_query, b),
                lambda k, b: fs.class_pool_tasks(k, pool, te, c.n_way, c.k_shot, c.q_query, b), pool.shape[-1])
    raise ValueError(f"unknown few-shot family {c.family!r}; expected digits, synthetic or omniglot")


def maml(c, seed: int) -> dict:
    """FO-MAML of finite linear networks (μP and NTK at ``c.widths``) and of the three exact limits.

    Meta-training tasks are sampled in chunks of ``c.eval_every`` outer steps (the same tasks for every
    model) and fed to trainers compiled once per shape: the parametrisation, the learning rates and the
    task family enter as arrays, so one program serves μP and NTK at a width, the NTK and GP limits, and
    both task families when their shapes agree.
    """
    sample_train, sample_test, d = _sampler(c, seed)
    k = c.n_way
    chunk = max(1, c.eval_every)
    if c.steps % chunk:
        raise ValueError(f"steps ({c.steps}) must be a multiple of eval_every ({chunk})")
    n_chunks = c.steps // chunk
    key = jax.random.PRNGKey(seed)
    task_key = jax.random.fold_in(key, 11)                 # the same meta-training tasks for every model
    sample_chunk = jax.jit(lambda start: jax.vmap(lambda s: sample_train(jax.random.fold_in(task_key, s),
                                                                          c.meta_batch))(start + jnp.arange(chunk)))
    chunks = lambda: (sample_chunk(i * chunk) for i in range(n_chunks))
    test = jax.jit(sample_test, static_argnums=1)(jax.random.fold_in(key, 12), c.test_tasks)
    init_keys = jax.random.split(jax.random.fold_in(key, 13), c.seeds)
    lrs = (np.float32(c.inner_lr), np.float32(c.outer_lr))
    out = {}

    # muP-infinity (deterministic: one run)
    mc = ll.mup_limit_constants(c.base_width, d, c.out_scale)
    kappas = (np.float32(mc["kappa_u"]), np.float32(mc["kappa_v"]))
    C = ll.mup_limit_init(d, k, mc["sigma_u"], mc["sigma_v"])
    accs, losses = [float(_limit_accuracy(C, test, lrs, kappas, inner_steps=c.inner_steps))], []
    for tasks in chunks():
        C, l = _limit_chunk(C, tasks, lrs, kappas, inner_steps=c.inner_steps)
        losses.append(np.asarray(l))
        accs.append(float(_limit_accuracy(C, test, lrs, kappas, inner_steps=c.inner_steps)))
    out["mup_inf/acc"], out["mup_inf/loss"], out["mup_inf/acc_curve"] = accs[-1], np.concatenate(losses), accs
    out["mup_inf/acc_init"] = accs[0]
    M_inf = np.asarray(C)[:d, d:]                          # ll.readout
    out["mup_inf/M"] = M_inf

    def train(abc, width):
        """-> end-to-end matrices M [seed, d, k], test accuracy [seed], mean loss of the last 10% of steps."""
        params = _init_models(abc, init_keys, width=width, d=d, k=k, base_width=c.base_width, out_scale=c.out_scale)
        losses = []
        for tasks in chunks():
            params, l = _fomaml_chunk(params, abc, tasks, lrs, inner_steps=c.inner_steps)
            losses.append(np.asarray(l))
        M, acc = _evaluate_models(params, abc, test, lrs, inner_steps=c.inner_steps)
        return np.asarray(M), np.asarray(acc), np.concatenate(losses)[-max(1, c.steps // 10):].mean(0)

    # NTK-infinity and GP-infinity: the linear model f = xi M (width 0 below) with a GP initial function
    nc = ll.ntk_limit_constants(c.base_width, d, c.out_scale)
    for name, kappa in (("ntk_inf", nc["kappa_ntk"]), ("gp_inf", nc["kappa_gp"])):
        abc = {"init_std": np.full((1,), nc["sigma_M"], np.float32), "multiplier": np.ones((1,), np.float32),
               "lr": np.full((1,), kappa, np.float32)}
        _, acc, loss = train(abc, 0)
        out[f"{name}/acc"], out[f"{name}/final_loss"] = acc, loss

    # finite networks
    for pname in c.parametrizations:
        accs, errs, losses = [], [], []
        for n in c.widths:
            M, acc, loss = train(pz.abc_arrays(pname, 2, n, c.base_width, "sgd"), n)
            errs.append(np.linalg.norm((M - M_inf).reshape(c.seeds, -1), axis=1) / np.linalg.norm(M_inf))
            accs.append(acc)
            losses.append(loss)
        out[f"{pname}/acc"] = np.stack(accs)            # [width, seed]
        out[f"{pname}/err_vs_mup_inf"] = np.stack(errs)  # [width, seed]
        out[f"{pname}/final_loss"] = np.stack(losses)
    return {k_: np.asarray(v) for k_, v in out.items()}


@functools.partial(jax.jit, static_argnames=("inner_steps",))
def _limit_chunk(C, tasks, lrs, kappas, *, inner_steps):
    """μP∞ FO-MAML over a chunk of meta-batches (leading axis of ``tasks``). Returns (C, losses)."""
    body = lambda C, t: ll.limit_fomaml_step(C, t, lrs[0], inner_steps, lrs[1], *kappas)
    return jax.lax.scan(body, C, tasks)


@functools.partial(jax.jit, static_argnames=("inner_steps",))
def _limit_accuracy(C, test, lrs, kappas, *, inner_steps):
    return ll.limit_fewshot_accuracy(C, test, lrs[0], inner_steps, *kappas)


def _model(params, abc):
    """(apply, lr factors, end-to-end matrix) of one model: the linear model {'M'} or the linear 1-hidden-layer net."""
    if "M" in params:        # NTK/GP limit: f = xi M
        return fs.linear_model_apply, {"M": abc["lr"][0]}, params["M"]
    apply = lambda p, x: pz.abc_apply(p, x, abc["multiplier"], "linear")
    return apply, pz.lr_tree(params, abc["lr"]), (params["w0"] * abc["multiplier"][0]) @ (params["w1"] * abc["multiplier"][1])


@functools.partial(jax.jit, static_argnames=("width", "d", "k", "base_width", "out_scale"))
def _init_models(abc, init_keys, *, width, d, k, base_width, out_scale):
    """One model per init key. width 0: the linear model, M_0 = abc['init_std'][0] N(0, 1) entrywise."""
    if width == 0:
        return jax.vmap(lambda kk: {"M": abc["init_std"][0] * jax.random.normal(kk, (d, k))})(init_keys)
    return jax.vmap(lambda kk: pz.init_abc_mlp(kk, d, width, 1, k, base_width, abc["init_std"], out_scale))(init_keys)


@functools.partial(jax.jit, static_argnames=("inner_steps",))
def _fomaml_chunk(params, abc, tasks, lrs, *, inner_steps):
    """FO-MAML of a batch of models (leading seed axis) over a chunk of shared meta-batches. Returns (params, losses)."""

    def one(q, t):
        apply, scales, _ = _model(q, abc)
        return fs.fomaml_step(q, t, apply, scales, lrs[0], inner_steps, lrs[1])

    return jax.lax.scan(lambda p, t: jax.vmap(lambda q: one(q, t))(p), params, tasks)


@functools.partial(jax.jit, static_argnames=("inner_steps",))
def _evaluate_models(params, abc, test, lrs, *, inner_steps):
    """(end-to-end matrices [seed, d, k], test accuracy after adaptation [seed])."""

    def one(q):
        apply, scales, M = _model(q, abc)
        return M, fs.fewshot_accuracy(q, test, apply, scales, lrs[0], inner_steps)

    return jax.vmap(one)(params)


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
    def limit_run():
        def body(C, s):
            w, ctx, negs = batch_of(s)
            return ll.limit_step_onehot(C, w, V, lambda lg: w2v.sgns_loss(lg, ctx, negs), c.lr,
                                        mc["kappa_u"], mc["kappa_v"])
        C, losses = jax.lax.scan(body, ll.mup_limit_init(V, V, mc["sigma_u"], mc["sigma_v"]), jnp.arange(c.steps))
        # NTK∞: the embeddings never move, their Gram stays diagonal
        return losses, w2v.analogy_accuracy(C[:V, :V], questions), w2v.analogy_accuracy(jnp.eye(V), questions)

    losses, acc_mup_inf, acc_ntk_inf = limit_run()
    out["mup_inf/analogy"] = float(acc_mup_inf)
    out["mup_inf/loss"] = float(np.mean(np.asarray(losses)[-max(1, c.steps // 10):]))
    out["ntk_inf/analogy"] = float(acc_ntk_inf)
    init_keys = jax.random.split(jax.random.fold_in(key, 1), c.seeds)

    @functools.partial(jax.jit, static_argnames=("width",))
    def net_run(abc, init_keys, *, width):       # one program per width, shared by the parametrisations
        params = jax.vmap(lambda kk: pz.init_abc_mlp(kk, V, width, 1, V, c.base_width, abc["init_std"]))(init_keys)
        apply = lambda q, x: pz.abc_apply(q, x, abc["multiplier"], "linear")
        scales = pz.lr_tree(params, abc["lr"])

        def body(p, s):
            w, ctx, negs = batch_of(s)

            def one(q):
                lf = lambda q_: w2v.sgns_loss(apply(q_, onehot(w)), ctx, negs)
                l, g = jax.value_and_grad(lf)(q)
                return pz.sgd_update(q, g, c.lr, scales), l
            return jax.vmap(one)(p)

        final, ls = jax.lax.scan(body, params, jnp.arange(c.steps))
        grams = jax.vmap(lambda q: q["w0"] @ q["w0"].T)(final)
        return jax.vmap(lambda g: w2v.analogy_accuracy(g, questions))(grams), ls[-max(1, c.steps // 10):].mean(0)

    for pname in c.parametrizations:
        accs, final_losses = [], []
        for n in c.widths:
            acc, l = net_run(pz.abc_arrays(pname, 2, n, c.base_width, "sgd"), init_keys, width=n)
            accs.append(np.asarray(acc))
            final_losses.append(np.asarray(l))
        out[f"{pname}/analogy"] = np.stack(accs)
        out[f"{pname}/loss"] = np.stack(final_losses)
    out["chance"] = 1.0 / (V - 3)
    return {k_: np.asarray(v) for k_, v in out.items()}
