"""Joint completion and classification with a monotone DBM (Sec. 5 of the paper).

The visible layer holds one categorical unit per pixel (the intensity bin, n = num_bins); hidden
layers are convolutional grids of small categorical units; the last layer is the label (one unit,
10 categories). A random subset of pixels is observed and clamped; mean-field inference (damped
forward-backward splitting with Anderson acceleration, implicit gradients) fills in the remaining
pixels and the label at once.

Loss (the paper's / official code's): 0.5 * focal cross-entropy (gamma = 2, class-balanced weights
(1 - beta) / (1 - beta^count) with beta = 0.9999) on the unobserved pixels, logits scaled by a learned
per-pixel tau^2, plus 0.5 * cross-entropy of the label logits scaled by a learned clftau^2. Logits are
W q* + b at the clamped fixed point q*.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from papers.monotone_dbm import inference, monotone


def architecture(config) -> monotone.Architecture:
    """The model of ``config.model``: layers (H, W, G, n) and couplings (i, j, kernel)."""
    mc = config.model
    layers = tuple(tuple(int(v) for v in layer) for layer in mc.layers)
    couplings = tuple(tuple(int(v) for v in c) for c in mc.couplings)
    return monotone.Architecture(layers=layers, couplings=couplings)


def init_params(config, key) -> dict:
    """Monotone-DBM parameters plus the loss temperatures tau [H, W] and clftau []."""
    arch = architecture(config)
    p = monotone.init_params(arch, key, scale=config.model.init_scale, bias_scale=config.model.bias_scale)
    h, w = arch.layers[0][:2]
    p["tau"] = jnp.full((h, w), np.sqrt(10.0), jnp.float32)
    p["clftau"] = jnp.ones((), jnp.float32)
    return p


def bin_images(images, num_bins: int):
    """Intensities in [0, 1] [N, H, W] -> bin indices int32 in [0, num_bins)."""
    return np.clip(np.floor(np.asarray(images) * num_bins), 0, num_bins - 1).astype(np.int32)


def bin_centers(num_bins: int) -> np.ndarray:
    return (np.arange(num_bins) + 0.5) / num_bins


def observation_mask(key, shape, observed: float):
    """Bernoulli(observed) mask [B, H, W] float32 (1 = observed pixel)."""
    return jax.random.bernoulli(key, observed, shape).astype(jnp.float32)


def _solver(config) -> tuple:
    s = config.solver
    return (int(s.memory), float(s.lam), int(s.max_iter), float(s.tol))


def infer(config, params, bins, mask, monotone_: bool = True):
    """Mean-field fixed point with the observed pixels clamped.

    bins [B, H, W] int; mask [B, H, W] float (1 observed). Returns (q* tuple, logits tuple)."""
    arch = architecture(config)
    alpha = float(config.solver.alpha)
    cp = monotone.coupling(arch, params, config.model.m, monotone_)
    data = jax.nn.one_hot(bins, arch.layers[0][-1], dtype=jnp.float32)[:, :, :, None, :]
    m = mask[:, :, :, None, None]

    def step(cp, context, z):
        data, m = context
        q = monotone.unflatten(arch, z)
        out = inference.fb_step(lambda x: monotone.apply_W(arch, cp, x), cp["biases"], q, alpha, data, m)
        return monotone.flatten(out)

    z0 = monotone.flatten(inference.uniform_state(arch, bins.shape[0]))
    z = inference.fixed_point(step, cp, (data, m), z0, _solver(config))
    q = monotone.unflatten(arch, z)
    lg = inference.logits(lambda x: monotone.apply_W(arch, cp, x), cp["biases"], q, data, m)
    return q, lg


def focal_loss(pixel_logits, bins, mask, tau, num_bins: int, gamma: float = 2.0, beta: float = 0.9999):
    """Class-balanced focal cross-entropy over the unobserved pixels.

    pixel_logits [B, H, W, n]; bins [B, H, W]; mask [B, H, W] (1 observed); tau [H, W]."""
    lg = pixel_logits * (tau ** 2)[None, :, :, None]
    logp = jax.nn.log_softmax(lg, -1)
    logp_y = jnp.take_along_axis(logp, bins[..., None], -1)[..., 0]
    focal = (1.0 - jnp.exp(logp_y)) ** gamma * logp_y
    unobs = 1.0 - mask
    counts = jnp.sum(jax.nn.one_hot(bins, num_bins) * unobs[..., None], axis=(0, 1, 2))
    weights = jnp.where(counts > 0, (1.0 - beta) / (1.0 - beta ** jnp.maximum(counts, 1.0)), 0.0)
    w = weights[bins] * unobs
    return -jnp.sum(w * focal) / jnp.maximum(jnp.sum(w), 1e-12)


def loss_fn(config, params, bins, mask, labels):
    """0.5 focal CE (unobserved pixels) + 0.5 label CE; returns (loss, aux metrics)."""
    _, lg = infer(config, params, bins, mask)
    nb = config.data.num_bins
    rec = focal_loss(lg[0][:, :, :, 0, :], bins, mask, params["tau"], nb, config.train.focal_gamma,
                     config.train.focal_beta)
    label_logits = lg[-1].reshape(bins.shape[0], -1) * params["clftau"] ** 2
    clf = -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(label_logits, -1), labels[:, None], -1))
    w = config.train.clf_weight
    loss = (1.0 - w) * rec + w * clf
    acc = jnp.mean(jnp.argmax(label_logits, -1) == labels)
    return loss, {"loss": loss, "focal": rec, "label_ce": clf, "train_acc": acc}


def predict(config, params, bins, mask):
    """(label marginals [B, 10], pixel predictive [B, H, W, n], pixel marginals [B, H, W, n]).

    The pixel predictive distribution is softmax(tau^2 (W q* + b)), the distribution the focal loss
    trains; the mean-field marginal q* = softmax(W q* + b) has the same argmax but is less peaked."""
    q, lg = infer(config, params, bins, mask)
    pix = jax.nn.softmax(lg[0][:, :, :, 0, :] * (params["tau"] ** 2)[None, :, :, None], -1)
    return q[-1].reshape(bins.shape[0], -1), pix, q[0][:, :, :, 0, :]


def linear_completion(train_values, values, mask, ridge: float = 1e-2):
    """Reference completion by linear regression from the observed to the unobserved pixels.

    For each image the best linear predictor of the unobserved pixels given the observed ones under the
    training mean mu and covariance Sigma (the population least-squares regression, with a ridge term):
        x_u = mu_u + Sigma_uo (Sigma_oo + ridge I)^{-1} (x_o - mu_o).
    train_values [N, H, W] and values [B, H, W] are intensities (bin centres); mask [B, H, W] (1 observed).
    Returns the completed intensities [B, H, W] (numpy, float64; observed pixels unchanged)."""
    tr = np.asarray(train_values, np.float64).reshape(len(train_values), -1)
    x = np.asarray(values, np.float64).reshape(len(values), -1)
    obs = np.asarray(mask).reshape(len(values), -1) > 0
    mu = tr.mean(0)
    sigma = np.cov(tr, rowvar=False, bias=True)
    out = x.copy()
    for r in range(len(x)):
        o, u = obs[r], ~obs[r]
        if not u.any():
            continue
        coef = np.linalg.solve(sigma[np.ix_(o, o)] + ridge * np.eye(int(o.sum())), x[r, o] - mu[o])
        out[r, u] = mu[u] + sigma[np.ix_(u, o)] @ coef
    return out.reshape(np.shape(values))
