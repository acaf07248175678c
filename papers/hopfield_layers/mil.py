"""Multiple-instance learning (Sec. 4.2 of the paper): bag data, the pooling models and the loss.

A bag is a padded set of instances x [L, d] with a mask [L]; its label is 1 if it holds at least
one instance of the positive class. Stand-in data (CPU): bags of scikit-learn 8x8 digits, positive
if the bag holds ``target_digit`` (as MNIST-bags of Ilse et al., 2018). The paper's benchmarks
(Tiger, Fox, Elephant, UCSB) load from a user directory (:func:`load_benchmark_bags`).
"""
from __future__ import annotations

import functools
import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from common import data as common_data
from papers.hopfield_layers.layers import HopfieldPooling

POOLINGS = ("hopfield", "attention", "mean", "max")


# --------------------------------------------------------------------------- data

def sample_bags(rng: np.random.Generator, images: np.ndarray, labels: np.ndarray, num_bags: int,
                target: int, mean: float, std: float, min_size: int, max_size: int):
    """Draws ``num_bags`` bags of instances from a pool (sizes ~ round(N(mean, std)) clipped to
    [min_size, max_size]). images: [P, d]; labels: [P]. Returns x [B, max_size, d] float32,
    mask [B, max_size] bool, y [B] float32 (1 if the bag holds the target class)."""
    sizes = np.clip(np.rint(rng.normal(mean, std, num_bags)), min_size, max_size).astype(int)
    idx = rng.integers(0, len(images), (num_bags, max_size))
    mask = np.arange(max_size)[None, :] < sizes[:, None]
    x = np.where(mask[..., None], images[idx], 0.0).astype(np.float32)
    y = np.any(mask & (labels[idx] == target), axis=1).astype(np.float32)
    return x, mask, y


@functools.lru_cache(maxsize=64)
def digit_bags(seed: int, num_train: int, num_test: int, target: int, mean: float, std: float,
               min_size: int, max_size: int, train_fraction: float):
    """Train and test bags of digits: the 1797 digits are split once (fixed permutation) into a
    train and a test pool; bags are drawn from each with an rng seeded by ``seed``.
    Returns ((x, mask, y) train, (x, mask, y) test)."""
    images, labels = common_data.load_digits()
    images = images.reshape(len(images), -1)
    order = np.random.default_rng(0).permutation(len(images))
    cut = int(train_fraction * len(images))
    tr, te = order[:cut], order[cut:]
    rng_tr = np.random.default_rng([seed, 1])
    rng_te = np.random.default_rng([seed, 2])
    args = (target, mean, std, min_size, max_size)
    return (sample_bags(rng_tr, images[tr], labels[tr], num_train, *args),
            sample_bags(rng_te, images[te], labels[te], num_test, *args))


def load_benchmark_bags(data_dir: str, name: str, max_size: int):
    """A MIL benchmark (e.g. 'tiger', 'fox', 'elephant', 'ucsb') from ``<data_dir>/<name>.npz`` with
    arrays ``features`` [num_instances, d] float, ``bag_ids`` [num_instances] int and
    ``bag_labels`` [num_bags] in {0, 1} indexed by bag id. Returns (x, mask, y) padded to max_size."""
    path = common_data.require_path(
        os.path.join(data_dir, f"{name}.npz") if data_dir else "", f"MIL benchmark {name!r}",
        "Convert the data set (e.g. the Tiger/Fox/Elephant sets of Andrews et al., 2003) to an .npz with "
        "arrays features [instances, d], bag_ids [instances] and bag_labels [bags], put it there and set "
        "config.mil.data_dir.")
    with np.load(path, allow_pickle=False) as f:
        feats, ids, bag_y = f["features"].astype(np.float32), f["bag_ids"].astype(int), f["bag_labels"]
    x = np.zeros((len(bag_y), max_size, feats.shape[1]), np.float32)
    mask = np.zeros((len(bag_y), max_size), bool)
    for b in range(len(bag_y)):
        rows = feats[ids == b][:max_size]
        x[b, :len(rows)], mask[b, :len(rows)] = rows, True
    return x, mask, np.asarray(bag_y, np.float32)


# --------------------------------------------------------------------------- models

def masked_mean(h, mask):
    """Mean over present instances. h: [B, L, e]; mask: [B, L] -> [B, e]."""
    m = mask[..., None].astype(h.dtype)
    return jnp.sum(h * m, axis=-2) / jnp.maximum(jnp.sum(m, axis=-2), 1.0)


def masked_max(h, mask):
    """Max over present instances. h: [B, L, e]; mask: [B, L] -> [B, e]."""
    return jnp.max(jnp.where(mask[..., None], h, jnp.finfo(h.dtype).min), axis=-2)


class AttentionMILPooling(nn.Module):
    """Attention-based MIL pooling (Ilse et al., 2018, Eq. 9): a = softmax_k(w^T tanh(V h_k)), z = sum_k a_k h_k."""
    attention_dim: int = 64

    @nn.compact
    def __call__(self, h, mask):
        scores = nn.Dense(1, use_bias=False, name="w")(jnp.tanh(nn.Dense(self.attention_dim, name="V")(h)))[..., 0]
        a = jax.nn.softmax(jnp.where(mask, scores, jnp.finfo(scores.dtype).min), axis=-1)
        return jnp.einsum("bl,ble->be", a, h)


class MILClassifier(nn.Module):
    """Instance MLP -> pooling over the bag -> linear bag logit (same encoder/head for every pooling).

    The Hopfield pooling has no projection biases: with a learned query they are redundant (query and
    key biases shift logits uniformly per query; value/output biases are absorbed by the logit bias).
    """
    pooling: str = "hopfield"
    hidden: int = 64
    embed: int = 32
    num_heads: int = 1
    qkv_features: int = 32
    beta: float | None = None
    update_steps: int = 1
    normalize: bool = False
    attention_dim: int = 32

    @nn.compact
    def __call__(self, x, mask):
        """x: [B, L, d]; mask: [B, L] bool -> logits [B]."""
        h = nn.relu(nn.Dense(self.hidden)(x))
        h = nn.relu(nn.Dense(self.embed)(h))
        if self.pooling == "hopfield":
            z = HopfieldPooling(num_heads=self.num_heads, qkv_features=self.qkv_features,
                                out_features=self.embed, beta=self.beta, update_steps=self.update_steps,
                                normalize=self.normalize, use_bias=False)(h, mask)
        elif self.pooling == "attention":
            z = AttentionMILPooling(self.attention_dim)(h, mask)
        elif self.pooling == "mean":
            z = masked_mean(h, mask)
        elif self.pooling == "max":
            z = masked_max(h, mask)
        else:
            raise ValueError(f"unknown pooling {self.pooling!r}; choose from {POOLINGS}")
        return nn.Dense(1)(z)[..., 0]


def bce_loss(logits, labels):
    """Mean binary cross-entropy with logits. logits, labels: [B] -> scalar."""
    return jnp.mean(jnp.logaddexp(0.0, logits) - labels * logits)


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve = P(score_pos > score_neg) + 1/2 P(tie) (Mann-Whitney U)."""
    scores, labels = np.asarray(scores, np.float64), np.asarray(labels) > 0.5
    pos, neg = scores[labels], scores[~labels]
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError("AUC needs both classes")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))
