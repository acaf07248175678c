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


def test_sample_draws_from_the_model_conditionals_in_batches():
    """Tokens drawn at temperature 1 from the model's own predictive p(x_t | prefix): their mean cross-entropy
    under the model equals the mean predictive entropy at the same prefixes (an off-by-one position or a
    wrong temperature breaks the equality). The output layer is sharpened so the conditionals are peaked."""
    model = lm.CharLM(d_model=16, heads=2, layers=1, max_len=6)
    params = jax.jit(model.init)(jax.random.PRNGKey(0), jnp.zeros((1, 6), jnp.int32))["params"]
    head = [k for k in params if k.startswith("Dense")][-1]
    params = {**params, head: {**params[head], "kernel": 6.0 * params[head]["kernel"]}}
    seqs = lm.sample(model, params, jax.random.PRNGKey(1), 768, 6, chunk=256)
    assert seqs.shape == (768, 6) and int(seqs.min()) >= 0 and int(seqs.max()) < lm.BOS
    assert not np.array_equal(seqs[:256], seqs[256:512])                 # each batch has its own key
    logp = jax.nn.log_softmax(jax.jit(model.apply)({"params": params}, lm._with_bos(seqs)))
    ce = -np.take_along_axis(np.asarray(logp), np.asarray(seqs)[..., None], -1).mean()
    entropy = -(np.exp(logp) * logp).sum(-1).mean()
    assert entropy < 0.8 * np.log(len(lm.ALPHABET))
    np.testing.assert_allclose(ce, entropy, atol=0.06)
    np.testing.assert_allclose(lm.heldout_cross_entropy(model, params, seqs, chunk=500), ce, rtol=1e-5)


def test_text_sequences_reads_utf8_from_any_byte_offset(tmp_path):
    path = tmp_path / "tinystories.txt"
    path.write_text("Héllo wörld. " * 40, encoding="utf-8")
    seqs = lm.text_sequences(str(path), 3, 10, offset=2)            # byte 2 is inside the two-byte 'é'
    expected = ("llo wörld. " + "héllo wörld. " * 3).replace("ö", " ").replace("é", " ")[:30]
    assert "".join(lm.ALPHABET[i] for i in seqs.ravel()) == expected
