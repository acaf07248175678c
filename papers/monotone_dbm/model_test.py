"""The completion loss and the linear-regression reference against independent implementations."""
import jax
import jax.numpy as jnp
import numpy as np

from papers.monotone_dbm import model


def _regression(X, Y, x, ridge):
    """Least-squares regression of Y on X (with intercept, unpenalised) by np.linalg.lstsq on the sample matrix,
    the ridge penalty as extra rows sqrt(ridge) I (importing scikit-learn would cost more than the test)."""
    ones = np.ones((len(X), 1))
    if ridge == 0.0:
        coef = np.linalg.lstsq(np.hstack([ones, X]), Y, rcond=None)[0]         # explicit intercept column
        return np.concatenate([[1.0], x]) @ coef
    mx, my = X.mean(0), Y.mean(0)
    design = np.vstack([X - mx, np.sqrt(ridge) * np.eye(X.shape[1])])
    coef = np.linalg.lstsq(design, np.vstack([Y - my, np.zeros((X.shape[1], Y.shape[1]))]), rcond=None)[0]
    return my + (x - mx) @ coef


def test_linear_completion_is_least_squares_regression():
    rng = np.random.default_rng(0)
    tr = rng.normal(size=(200, 2, 3)) @ np.eye(3) + rng.normal(size=(200, 1, 1))   # correlated pixels
    x = rng.normal(size=(2, 2, 3))
    mask = np.array([[[1, 0, 1], [0, 1, 0]], [[0, 1, 1], [1, 0, 0]]], np.float32)
    for ridge in (0.0, 0.3):
        out = model.linear_completion(tr, x, mask, ridge)
        for r in range(2):
            o, u = mask[r].reshape(-1) > 0, mask[r].reshape(-1) == 0
            # the model's ridge is on the (biased) covariance: sample-matrix ridge = ridge x N
            ref = _regression(tr.reshape(200, -1)[:, o], tr.reshape(200, -1)[:, u], x[r].reshape(-1)[o], ridge * 200)
            np.testing.assert_allclose(out[r].reshape(-1)[u], ref, atol=1e-10)
            np.testing.assert_array_equal(out[r].reshape(-1)[o], x[r].reshape(-1)[o])


def test_focal_loss_matches_weighted_nll():
    rng = np.random.default_rng(1)
    nb, beta, gamma = 3, 0.99, 2.0
    logits = rng.normal(size=(2, 2, 2, nb)).astype(np.float32)
    bins = rng.integers(0, nb, (2, 2, 2))
    mask = np.array([[[1, 0], [0, 0]], [[0, 1], [0, 0]]], np.float32)
    tau = np.array([[1.0, 2.0], [0.5, 1.5]], np.float32)
    focal = jax.jit(model.focal_loss, static_argnums=(4, 5, 6))         # one program, not one per op
    ours = float(focal(jnp.asarray(logits), jnp.asarray(bins), jnp.asarray(mask), jnp.asarray(tau), nb, gamma, beta))
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
