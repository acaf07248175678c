"""Forecasters of the benchmark and its scores (paper Sec. 4, "Forecasting").

Every forecaster maps a standardised univariate training series y [N_train] to a forecast of the next
H points [H]; all are pure functions of (y, key) and are vmapped over series (systems x seeds).

* :func:`naive`        persistence: repeat the last value (the paper's "Naive" baseline).
* :func:`ridge_ar`     linear autoregression on L lags, ridge-fitted one step ahead, iterated.
* :func:`esn`          echo-state network: fixed random leaky-tanh reservoir, ridge readout, closed loop.
* :func:`nvar`         next-generation reservoir computer (Gauthier et al. 2021): k lags + their unique
                       quadratic monomials + 1, ridge fit of the one-step increment, iterated.
* :func:`nbeats`       N-BEATS-style generic MLP (Oreshkin et al. 2020): residual blocks emitting a
                       backcast and a forecast, direct H-step output, Adam on all training windows.
* :func:`transformer`  small patch transformer (pre-LN, multi-head self-attention), direct H-step output.

Scores: :func:`smape` (darts' sMAPE in percent, on the raw scale as in the paper) and
:func:`valid_prediction_time` (first time the error exceeds eps * std of the training series).
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import optax

MODELS = ("naive", "ridge_ar", "esn", "nvar", "nbeats", "transformer")


def smape(y_true, y_pred):
    """sMAPE = 200/H * sum_t |y - yhat| / (|y| + |yhat|) (percent; 0 where both are 0). [..., H] -> [...]."""
    num = jnp.abs(y_true - y_pred)
    den = jnp.abs(y_true) + jnp.abs(y_pred)
    ratio = jnp.where(den > 0, num / jnp.where(den > 0, den, 1.0), 0.0)
    return 200.0 * jnp.mean(jnp.where(jnp.isnan(den), jnp.nan, ratio), axis=-1)  # NaN data stays NaN


def valid_prediction_time(y_true, y_pred, scale, eps: float = 0.5):
    """Number of steps before |y - yhat| / scale first exceeds eps (H if never). [..., H] -> [...]."""
    bad = jnp.abs(y_true - y_pred) / scale[..., None] > eps
    H = y_true.shape[-1]
    return jnp.where(bad.any(-1), jnp.argmax(bad, axis=-1), H)


def lag_matrix(y, L: int):
    """Rows [y_t, ..., y_{t+L-1}] and targets y_{t+L}: y [N] -> ([N-L, L], [N-L])."""
    idx = jnp.arange(y.shape[0] - L)[:, None] + jnp.arange(L)[None, :]
    return y[idx], y[L:]


def ridge(features, targets, alpha):
    """argmin_W ||F W - T||^2 + alpha ||W||^2 (closed form). F [N, P], T [N] or [N, K]."""
    P = features.shape[1]
    A = features.T @ features + alpha * jnp.eye(P, dtype=features.dtype)
    return jnp.linalg.solve(A, features.T @ targets)


def _iterate(step, init_window, H):
    def body(w, _):
        nxt = step(w)
        return jnp.concatenate([w[1:], nxt[None]]), nxt
    _, out = jax.lax.scan(body, init_window, None, length=H)
    return out


# --------------------------------------------------------------------------------- naive / ridge AR

def naive(y, key, *, H, **_):
    return jnp.full((H,), y[-1])


def ridge_ar(y, key, *, H, lags, alpha, **_):
    X, t = lag_matrix(y, lags)
    F = jnp.concatenate([X, jnp.ones((X.shape[0], 1), X.dtype)], 1)
    w = ridge(F, t, alpha)
    return _iterate(lambda win: jnp.dot(win, w[:-1]) + w[-1], y[-lags:], H)


# --------------------------------------------------------------------------------- echo-state network

def esn(y, key, *, H, size, spectral_radius, input_scale, leak, alpha, washout, **_):
    """Reservoir r_{t+1} = (1-a) r_t + a tanh(W r_t + w_in y_t + b); readout y_{t+1} = [r, 1] . w_out."""
    k1, k2, k3 = jax.random.split(key, 3)
    # i.i.d. N(0, 1/size) entries: by the circular law the spectral radius is ~1, so scaling by rho sets it.
    W = spectral_radius * jax.random.normal(k1, (size, size), y.dtype) / math.sqrt(size)
    w_in = input_scale * jax.random.uniform(k2, (size,), y.dtype, -1, 1)
    b = 0.2 * jax.random.uniform(k3, (size,), y.dtype, -1, 1)

    def update(r, u):
        return (1 - leak) * r + leak * jnp.tanh(W @ r + w_in * u + b)

    def drive(r, u):
        r = update(r, u)
        return r, r
    r_last, states = jax.lax.scan(drive, jnp.zeros(size, y.dtype), y)
    S = jnp.concatenate([states, jnp.ones((states.shape[0], 1), y.dtype)], 1)[washout:-1]
    w_out = ridge(S, y[washout + 1:], alpha)

    def closed(r, _):
        out = jnp.dot(r, w_out[:-1]) + w_out[-1]
        return update(r, out), out
    _, preds = jax.lax.scan(closed, r_last, None, length=H)
    return preds


# --------------------------------------------------------------------------------- NVAR

def nvar_features(win):
    """[1, lags, unique quadratic monomials of the lags]: win [k] -> [1 + k + k(k+1)/2]."""
    i, j = jnp.triu_indices(win.shape[0])
    return jnp.concatenate([jnp.ones((1,), win.dtype), win, win[i] * win[j]])


def nvar(y, key, *, H, lags, alpha, **_):
    X, t = lag_matrix(y, lags)
    F = jax.vmap(nvar_features)(X)
    w = ridge(F, t - X[:, -1], alpha)
    return _iterate(lambda win: win[-1] + nvar_features(win) @ w, y[-lags:], H)


# --------------------------------------------------------------------------------- neural (direct)

def windows(y, L: int, H: int):
    """All (input [L], target [H]) windows of a training series: [M, L], [M, H]."""
    idx = jnp.arange(y.shape[0] - L - H + 1)[:, None]
    return y[idx + jnp.arange(L)[None]], y[idx + L + jnp.arange(H)[None]]


def _dense(key, n_in, n_out, dtype):
    return {"w": jax.random.normal(key, (n_in, n_out), dtype) * math.sqrt(1.0 / n_in),
            "b": jnp.zeros((n_out,), dtype)}


def _apply_dense(p, x):
    return x @ p["w"] + p["b"]


def nbeats_init(key, L, H, hidden, blocks, layers, dtype=jnp.float32):
    ps = []
    for kb in jax.random.split(key, blocks):
        ks = jax.random.split(kb, layers + 2)
        fc = [_dense(ks[i], L if i == 0 else hidden, hidden, dtype) for i in range(layers)]
        ps.append({"fc": fc, "back": _dense(ks[-2], hidden, L, dtype), "fore": _dense(ks[-1], hidden, H, dtype)})
    return ps


def nbeats_apply(params, x):
    """Generic N-BEATS: x_{b+1} = x_b - backcast_b(x_b); forecast = sum_b forecast_b(x_b). x [..., L]."""
    fore = 0.0
    for blk in params:
        h = x
        for layer in blk["fc"]:
            h = jax.nn.relu(_apply_dense(layer, h))
        x = x - _apply_dense(blk["back"], h)
        fore = fore + _apply_dense(blk["fore"], h)
    return fore


def transformer_init(key, L, H, patch, d, heads, depth, dtype=jnp.float32):
    n_tok = L // patch
    ks = jax.random.split(key, depth + 3)
    blocks = []
    for kb in ks[:depth]:
        k = jax.random.split(kb, 4)
        blocks.append({"qkv": _dense(k[0], d, 3 * d, dtype), "o": _dense(k[1], d, d, dtype),
                       "m1": _dense(k[2], d, 2 * d, dtype), "m2": _dense(k[3], 2 * d, d, dtype),
                       "ln1": jnp.ones((d,), dtype), "ln2": jnp.ones((d,), dtype)})
    return {"embed": _dense(ks[depth], patch, d, dtype),
            "pos": 0.02 * jax.random.normal(ks[depth + 1], (n_tok, d), dtype),
            "blocks": blocks, "head": _dense(ks[depth + 2], n_tok * d, H, dtype)}


def _ln(x, g):
    mu = x.mean(-1, keepdims=True)
    return g * (x - mu) / jnp.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + 1e-5)


def transformer_apply(params, x, *, patch, heads):
    """Patch transformer: x [..., L] -> tokens [..., L/patch, d] -> pre-LN attention blocks -> [..., H]."""
    lead = x.shape[:-1]
    tok = _apply_dense(params["embed"], x.reshape(*lead, -1, patch)) + params["pos"]
    n, d = tok.shape[-2:]
    dh = d // heads
    for blk in params["blocks"]:
        h = _ln(tok, blk["ln1"])
        q, k, v = jnp.split(_apply_dense(blk["qkv"], h), 3, axis=-1)
        q, k, v = (t.reshape(*lead, n, heads, dh) for t in (q, k, v))
        att = jax.nn.softmax(jnp.einsum("...qhc,...khc->...hqk", q, k) / math.sqrt(dh), axis=-1)
        o = jnp.einsum("...hqk,...khc->...qhc", att, v).reshape(*lead, n, d)
        tok = tok + _apply_dense(blk["o"], o)
        h = _ln(tok, blk["ln2"])
        tok = tok + _apply_dense(blk["m2"], jax.nn.gelu(_apply_dense(blk["m1"], h)))
    return _apply_dense(params["head"], tok.reshape(*lead, n * d))


def _train_direct(init, apply, y, key, *, H, lookback, steps, lr, weight_decay=1e-4):
    X, T = windows(y, lookback, H)
    params = init(key)
    opt = optax.adamw(optax.cosine_decay_schedule(lr, steps), weight_decay=weight_decay)
    state = opt.init(params)

    def loss(p):
        return jnp.mean((apply(p, X) - T) ** 2)

    def step(carry, _):
        p, s = carry
        l, g = jax.value_and_grad(loss)(p)
        upd, s = opt.update(g, s, p)
        return (optax.apply_updates(p, upd), s), l
    (params, _), losses = jax.lax.scan(step, (params, state), None, length=steps)
    return apply(params, y[-lookback:]), losses[-1]


def nbeats(y, key, *, H, lookback, hidden, blocks, layers, steps, lr, **_):
    init = lambda k: nbeats_init(k, lookback, H, hidden, blocks, layers, y.dtype)
    pred, _ = _train_direct(init, nbeats_apply, y, key, H=H, lookback=lookback, steps=steps, lr=lr)
    return pred


def transformer(y, key, *, H, lookback, patch, d_model, heads, depth, steps, lr, **_):
    init = lambda k: transformer_init(k, lookback, H, patch, d_model, heads, depth, y.dtype)
    apply = lambda p, x: transformer_apply(p, x, patch=patch, heads=heads)
    pred, _ = _train_direct(init, apply, y, key, H=H, lookback=lookback, steps=steps, lr=lr)
    return pred


FORECASTERS = {"naive": naive, "ridge_ar": ridge_ar, "esn": esn, "nvar": nvar, "nbeats": nbeats,
               "transformer": transformer}


def forecast_batch(model: str, y_train, keys, H: int, hparams: dict):
    """Standardises each series with its training mean/std, forecasts H steps, maps back.

    y_train [M, N_train] (raw scale), keys [M, 2] -> forecasts [M, H] (raw scale)."""
    fn = FORECASTERS[model]
    mu = y_train.mean(1, keepdims=True)
    sd = y_train.std(1, keepdims=True) + 1e-8
    z = (y_train - mu) / sd
    pred = jax.jit(jax.vmap(lambda y, k: fn(y, k, H=H, **hparams)))(z, keys)
    return pred * sd + mu
