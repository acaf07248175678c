"""The completion loss and the linear-regression reference against independent implementations."""
import jax.numpy as jnp
import numpy as np
from sklearn.linear_model import LinearRegression, Ridge

from papers.monotone_dbm import model


def test_linear_completion_is_least_squares_regression():
    rng = np.random.default_rng(0)
    tr = rng.normal(size=(200, 2, 3)) @ np.eye(3) + rng.normal(size=(200, 1, 1))   # correlated pixels
    x = rng.normal(size=(2, 2, 3))
    mask = np.array([[[1, 0, 1], [0, 1, 0]], [[0, 1, 1], [1, 0, 0]]], np.float32)
    for ridge, reg in ((0.0, LinearRegression()), (0.3, Ridge(alpha=0.3 * 200))):
        out = model.linear_completion(tr, x, mask, ridge)
        for r in range(2):
            o, u = mask[r].reshape(-1) > 0, mask[r].reshape(-1) == 0
            fit = reg.fit(tr.reshape(200, -1)[:, o], tr.reshape(200, -1)[:, u])
            np.testing.assert_allclose(out[r].reshape(-1)[u], fit.predict(x[r].reshape(1, -1)[:, o])[0], atol=1e-10)
            np.testing.assert_array_equal(out[r].reshape(-1)[o], x[r].reshape(-1)[o])


def test_focal_loss_matches_weighted_nll():
    rng = np.random.default_rng(1)
    nb, beta, gamma = 3, 0.99, 2.0
    logits = rng.normal(size=(2, 2, 2, nb)).astype(np.float32)
    bins = rng.integers(0, nb, (2, 2, 2))
    mask = np.array([[[1, 0], [0, 0]], [[0, 1], [0, 0]]], np.float32)
    tau = np.array([[1.0, 2.0], [0.5, 1.5]], np.float32)
    ours = float(model.focal_loss(jnp.asarray(logits), jnp.asarray(bins), jnp.asarray(mask), jnp.asarray(tau),
                                  nb, gamma, beta))
    # reference: the official recipe: class weights (1-beta)/(1-beta^count) over the unobserved pixels,
    # focal weight (1 - p)^gamma on log p, then a weighted-mean NLL
    lg = (logits * tau[None, :, :, None] ** 2).reshape(-1, nb)[mask.reshape(-1) == 0]
    y = bins.reshape(-1)[mask.reshape(-1) == 0]
    logp = lg - np.log(np.exp(lg).sum(1, keepdims=True))
    with np.errstate(divide="ignore"):
        w = (1 - beta) / (1 - beta ** np.bincount(y, minlength=nb).astype(np.float64))
    terms = (1 - np.exp(logp[np.arange(len(y)), y])) ** gamma * logp[np.arange(len(y)), y]
    ref = -np.sum(w[y] * terms) / np.sum(w[y])
    np.testing.assert_allclose(ours, ref, rtol=1e-5)
