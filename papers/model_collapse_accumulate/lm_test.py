"""The char LM: causality, the cross-entropy against a manual log-softmax, corpus encoding."""
import jax
import jax.numpy as jnp
import numpy as np

from papers.model_collapse_accumulate import lm


def test_corpus_and_encoding():
    text = lm.generate_corpus(np.random.default_rng(0), 500)
    assert len(text) == 500 and set(text) <= set(lm.ALPHABET) and text.count(".") >= 10
    ids = lm.encode(text)
    assert "".join(lm.ALPHABET[i] for i in ids) == text


def test_causal_model_and_cross_entropy():
    model = lm.CharLM(d_model=16, heads=2, layers=1, max_len=10)
    seqs = jnp.asarray(lm.corpus_sequences(np.random.default_rng(1), 4, 10))
    params = jax.jit(model.init)(jax.random.PRNGKey(0), seqs)["params"]
    inp = lm._with_bos(seqs)
    apply = jax.jit(model.apply)                                     # one compilation instead of op-by-op
    logits = apply({"params": params}, inp)
    changed = inp.at[:, 6:].set((inp[:, 6:] + 3) % lm.BOS)          # alter the future only
    logits2 = apply({"params": params}, changed)
    np.testing.assert_allclose(logits[:, :6], logits2[:, :6], atol=1e-5)
    assert not np.allclose(logits[:, 6:], logits2[:, 6:])
    logp = jax.nn.log_softmax(logits)
    manual = -jnp.take_along_axis(logp, seqs[..., None], axis=-1).mean()
    ce = jax.jit(lm.cross_entropy, static_argnums=0)(model, params, seqs)
    np.testing.assert_allclose(ce, manual, rtol=1e-5)
