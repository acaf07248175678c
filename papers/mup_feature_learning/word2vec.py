"""Word2Vec (skip-gram with negative sampling, Mikolov et al. 2013) as a linear 1-hidden-layer network (Sec. 9.2).

Input: one-hot word xi = e_w (d = V), hidden h = xi W^1 (the word embedding, width n), logits xi W^1 W^2 [V]
(the output/context embeddings are the columns of W^2). The negative-sampling loss of a (word, context,
negatives) triple only reads the logits of the context and the negatives. The embedding Gram matrix, which
analogy evaluation needs, is (1/n) W^1 W^1^T at finite width and C_uu of ``linear_limits`` in the μP∞ limit;
in the NTK/GP limits the embeddings do not move, so their Gram stays sigma^2 I and analogies are at chance.

The generated corpus has analogy structure: "role" words r_i^g (role i, gender g) occur next to role-specific
context words and gender-specific context words, so an embedding that learns features has
e(r_i^m) - e(r_i^f) + e(r_j^f) ~ e(r_j^m).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def generated_corpus(seed: int, num_sentences: int, num_roles: int = 8, ctx_per_role: int = 3,
                     ctx_per_gender: int = 3, num_fillers: int = 10):
    """Token sentences [num_sentences, 5] (int32), vocab (list of str), analogy questions [m, 4] (a:b::c:d)."""
    roles = [f"role{i}_{g}" for i in range(num_roles) for g in "mf"]
    rctx = [f"ctx{i}_{j}" for i in range(num_roles) for j in range(ctx_per_role)]
    gctx = [f"{g}ctx{j}" for g in "mf" for j in range(ctx_per_gender)]
    fill = [f"fill{j}" for j in range(num_fillers)]
    vocab = roles + rctx + gctx + fill
    idx = {w: i for i, w in enumerate(vocab)}
    rng = np.random.default_rng([seed, 2046])
    sents = np.zeros((num_sentences, 5), np.int32)
    for s in range(num_sentences):
        i, g = rng.integers(num_roles), rng.integers(2)
        gl = "mf"[g]
        words = [f"fill{rng.integers(num_fillers)}", f"role{i}_{gl}", f"ctx{i}_{rng.integers(ctx_per_role)}",
                 f"{gl}ctx{rng.integers(ctx_per_gender)}", f"fill{rng.integers(num_fillers)}"]
        order = [0, 2, 1, 3, 4] if rng.random() < 0.5 else [0, 3, 1, 2, 4]   # role word in the middle
        sents[s] = [idx[words[o]] for o in order]
    questions = []
    for i in range(num_roles):
        for j in range(num_roles):
            if i != j:
                questions.append([idx[f"role{i}_m"], idx[f"role{i}_f"], idx[f"role{j}_m"], idx[f"role{j}_f"]])
                questions.append([idx[f"role{i}_f"], idx[f"role{i}_m"], idx[f"role{j}_f"], idx[f"role{j}_m"]])
    return sents, vocab, np.asarray(questions, np.int32)


def skipgram_pairs(sentences: np.ndarray, window: int) -> np.ndarray:
    """All (center, context) pairs within ``window`` of each other in each sentence, [m, 2]."""
    out = []
    L = sentences.shape[1]
    for off in range(-window, window + 1):
        if off == 0:
            continue
        lo, hi = max(0, -off), min(L, L - off)
        out.append(np.stack([sentences[:, lo:hi].ravel(), sentences[:, lo + off:hi + off].ravel()], 1))
    return np.concatenate(out).astype(np.int32)


def token_pairs(tokens: np.ndarray, window: int) -> np.ndarray:
    """(center, context) pairs of one long token stream (text8), [m, 2]."""
    return skipgram_pairs(tokens[None, :], window)


def unigram_table(tokens: np.ndarray, vocab_size: int, power: float = 0.75) -> np.ndarray:
    counts = np.bincount(tokens.ravel(), minlength=vocab_size).astype(np.float64) + 1e-3
    p = counts ** power
    return (p / p.sum()).astype(np.float32)


def sgns_loss(logits, ctx, negs):
    """Negative-sampling loss, mean over the batch: -log s(f_c) - sum_j log s(-f_nj). logits [b, V]."""
    pos = jnp.take_along_axis(logits, ctx[:, None], 1)[:, 0]
    neg = jnp.take_along_axis(logits, negs, 1)
    return jnp.mean(-jax.nn.log_sigmoid(pos) - jnp.sum(jax.nn.log_sigmoid(-neg), 1))


def sample_batch(key, pairs, neg_probs, batch: int, negatives: int):
    """(centers [b], contexts [b], negatives [b, K]) drawn uniformly from the pairs and from unigram^0.75."""
    kp, kn = jax.random.split(key)
    rows = pairs[jax.random.randint(kp, (batch,), 0, pairs.shape[0])]
    negs = jax.random.choice(kn, neg_probs.shape[0], (batch, negatives), p=neg_probs)
    return rows[:, 0], rows[:, 1], negs


def analogy_accuracy(gram, questions):
    """Share of a:b::c:d answered by argmax_w cos(ê_b - ê_a + ê_c, ê_w) over w not in {a, b, c} (3CosAdd).

    ê are the unit-normalised embeddings, as in word2vec's analogy evaluation. Only the embedding Gram
    matrix G = E E^T [V, V] is needed: with R = G / sqrt(diag(G) diag(G)^T) (cosines),
    (ê_b - ê_a + ê_c) . ê_w = R[b, w] - R[a, w] + R[c, w].
    A question counts as answered only if d scores strictly above every other candidate, so a Gram that is
    exactly diagonal (the NTK/GP limits) scores 0.
    """
    a, b, c, d = (questions[:, i] for i in range(4))
    norms = jnp.sqrt(jnp.clip(jnp.diag(gram), 1e-12))
    R = gram / (norms[:, None] * norms[None, :])
    scores = R[b] - R[a] + R[c]
    V = gram.shape[0]
    cols = jnp.arange(V)[None, :]
    excluded = (cols == a[:, None]) | (cols == b[:, None]) | (cols == c[:, None]) | (cols == d[:, None])
    best_other = jnp.max(jnp.where(excluded, -jnp.inf, scores), 1)
    return jnp.mean(jnp.take_along_axis(scores, d[:, None], 1)[:, 0] > best_other)
