"""Data: irregular spirals (claim 3), a time-dependent Ornstein-Uhlenbeck data set (claim 4), and the
paper-scale loaders for UEA CharacterTrajectories and Speech Commands (user directories).

Every series is returned as ``values [K, c]`` with channel 0 the observation time, the layout that
:func:`models.ncde_logits` and :func:`models.gru_logits` take.
"""
from __future__ import annotations

import functools
import glob
import os

import jax
import jax.numpy as jnp
import numpy as np

from common.data import DataNotFoundError, require_path  # noqa: F401  (DataNotFoundError re-exported)
from papers.neural_des import rand


# ----------------------------------------------------------------------------- spirals

@functools.partial(jax.jit, static_argnames=("n", "length", "dtype"))
def spirals(key, n: int, length: int = 100, noise: float = 0.05, dtype=jnp.float32):
    """Clockwise (label 1) / anticlockwise (label 0) spirals, fully observed.

    t_j = 4 pi j / (length - 1); a random start phase phi and decay rate; (x, y) = r(t) (cos, +-sin)(phi + t)
    with r(t) = 1 / (1 + a t), plus Gaussian noise.  Returns (times [n, L] in [0, 1], xy [n, L, 2], labels [n]).
    """
    k1, k2, k3, k4 = jax.random.split(key, 4)
    t = jnp.linspace(0.0, 4 * jnp.pi, length, dtype=dtype)
    phi = jax.random.uniform(k1, (n, 1), dtype, 0.0, 2 * jnp.pi)
    a = jax.random.uniform(k2, (n, 1), dtype, 0.2, 0.8)
    labels = jax.random.bernoulli(k3, 0.5, (n,)).astype(jnp.int32)
    sign = jnp.where(labels[:, None] == 1, -1.0, 1.0).astype(dtype)
    r = 1.0 / (1.0 + a * t[None])
    xy = jnp.stack([r * jnp.cos(phi + t), sign * r * jnp.sin(phi + t)], axis=-1)
    xy = xy + noise * jax.random.normal(k4, xy.shape, dtype)
    return jnp.broadcast_to(t / t[-1], (n, length)), xy, labels


@functools.partial(jax.jit, static_argnames=("drop_rate",))
def drop_points(key, times, xy, drop_rate: float):
    """Drops round(drop_rate * L) points of every series, independently per series; keeps order.

    Returns values [n, K, 3] = (observation time, x, y) at the K = L - round(drop_rate L) kept points: an
    irregularly sampled, partially observed series.
    """
    n, length = times.shape
    keep = length - int(round(drop_rate * length))

    def one(k, t, v):
        idx = jnp.sort(jax.random.permutation(k, length)[:keep])
        return jnp.concatenate([t[idx, None], v[idx]], axis=1)
    return jax.vmap(one)(jax.random.split(key, n), times, xy)


def irregular_spirals(key, n: int, drop_rate: float, length: int = 100, noise: float = 0.05):
    """(values [n, K, 3], labels [n]) -- spirals with a fraction ``drop_rate`` of points removed."""
    k1, k2 = rand.split(key)
    times, xy, labels = spirals(k1, n, length, noise)
    return drop_points(k2, times, xy, float(drop_rate)), labels


# ----------------------------------------------------------------------------- time-dependent OU

@functools.partial(jax.jit, static_argnames=("n", "length", "dtype"))
def time_dependent_ou(key, n: int, length: int, t1: float, mu: float, theta: float, sigma: float,
                      dtype=jnp.float32):
    """Samples of dY = (mu t - theta Y) dt + sigma dW, Y_0 ~ U(-1, 1), at ``length`` times in [0, t1].

    Exact transition: Y_{t+h} = e^{-theta h} Y_t + int_t^{t+h} e^{-theta(t+h-s)} mu s ds + N(0, sigma^2 (1 -
    e^{-2 theta h}) / (2 theta)).  Returns (ts [length], ys [n, length, 1]).
    """
    ts = jnp.linspace(0.0, t1, length, dtype=dtype)
    h = ts[1] - ts[0]
    k0, kw = jax.random.split(key)
    y0 = jax.random.uniform(k0, (n,), dtype, -1.0, 1.0)
    decay = jnp.exp(-theta * h)
    std = sigma * jnp.sqrt((1.0 - decay ** 2) / (2.0 * theta))

    def mean_increment(t):   # int_t^{t+h} e^{-theta (t + h - s)} mu s ds
        return mu * ((t + h) / theta - 1.0 / theta ** 2 - decay * (t / theta - 1.0 / theta ** 2))

    def body(y, inp):
        t, eps = inp
        y = decay * y + mean_increment(t) + std * eps
        return y, y

    eps = jax.random.normal(kw, (length - 1, n), dtype)
    _, ys = jax.lax.scan(body, y0, (ts[:-1], eps))
    ys = jnp.concatenate([y0[None], ys], axis=0).T
    return ts, ys[..., None]


def ou_marginals(ts, y0_mean, y0_var, mu: float, theta: float, sigma: float):
    """Closed-form mean and variance of the OU process above at times ts (tests check the sampler)."""
    m = y0_mean * jnp.exp(-theta * ts) + mu * (ts / theta - (1.0 - jnp.exp(-theta * ts)) / theta ** 2)
    v = y0_var * jnp.exp(-2 * theta * ts) + sigma ** 2 * (1.0 - jnp.exp(-2 * theta * ts)) / (2 * theta)
    return m, v


# ----------------------------------------------------------------------------- paper-scale loaders

DATASETS = ("spirals", "character_trajectories", "speech_commands")   # cde.dataset
CHARACTER_TRAJECTORIES_HINT = ("Download Multivariate_ts.zip from timeseriesclassification.com and unpack its "
                               "CharacterTrajectories folder into --config.cde.data_dir.")
SPEECH_COMMANDS_HINT = ("Unpack speech_commands_v0.02.tar.gz into a folder SpeechCommands inside "
                        "--config.cde.data_dir (one subfolder per word).")


def require_dataset(name: str, data_dir: str) -> None:
    """Fails fast (before any other work) if a paper-scale data set is missing from the user's directory."""
    if name not in DATASETS:
        raise ValueError(f"unknown cde.dataset {name!r}; use one of {DATASETS}")
    if name == "character_trajectories":
        path = os.path.join(data_dir or "", "CharacterTrajectories", "CharacterTrajectories_TRAIN.ts")
        require_path(path, "UEA CharacterTrajectories", CHARACTER_TRAJECTORIES_HINT)
    elif name == "speech_commands":
        require_path(os.path.join(data_dir or "", "SpeechCommands"), "Speech Commands", SPEECH_COMMANDS_HINT)


def _parse_ts_file(path: str):
    """Reads a UEA/sktime ``.ts`` file (text; ``@`` header lines, then ``dim0:dim1:...:label`` rows).

    Returns (list of arrays [channels, length_i] with NaN for '?', list of labels).
    """
    series, labels, in_data = [], [], False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.lower().startswith("@data"):
                in_data = True
                continue
            if line.startswith("@") or not in_data:
                continue
            *dims, label = line.split(":")
            chans = [np.array([np.nan if v in ("?", "NaN") else float(v) for v in d.split(",")]) for d in dims]
            length = max(len(c) for c in chans)
            series.append(np.stack([np.pad(c, (0, length - len(c)), constant_values=np.nan) for c in chans]))
            labels.append(label)
    return series, labels


def load_character_trajectories(data_dir: str, drop_rate: float, seed: int = 0):
    """UEA CharacterTrajectories (2858 series, 3 channels, length <= 182, 20 classes) with points dropped.

    Expects ``<data_dir>/CharacterTrajectories/CharacterTrajectories_{TRAIN,TEST}.ts`` from
    http://www.timeseriesclassification.com (Multivariate_ts.zip).  As in the thesis, train and test are
    merged and re-split 70/15/15; each series is padded to the maximum length by repeating its last value,
    then ``drop_rate`` of its points are removed at random; time (index / max length) is channel 0.
    Returns dict(train=(values, labels), val=..., test=...), values [n, K, 4].  The experiment trains on
    ``train`` and reports ``test`` with the final parameters; ``val`` is split off but not used.
    """
    root = os.path.join(data_dir or "", "CharacterTrajectories")
    files = [os.path.join(root, f"CharacterTrajectories_{s}.ts") for s in ("TRAIN", "TEST")]
    for f in files:
        require_path(f, "UEA CharacterTrajectories", CHARACTER_TRAJECTORIES_HINT)
    series, labels = [], []
    for f in files:
        s, l = _parse_ts_file(f)
        series += s
        labels += l
    classes = sorted(set(labels))
    y = np.array([classes.index(l) for l in labels], np.int32)
    length = max(s.shape[1] for s in series)
    x = np.zeros((len(series), length, series[0].shape[0]), np.float32)
    for i, s in enumerate(series):
        s = s[:, ~np.all(np.isnan(s), axis=0)]
        x[i, :s.shape[1]] = s.T
        x[i, s.shape[1]:] = s[:, -1]
    t = np.broadcast_to(np.linspace(0.0, 1.0, length, dtype=np.float32), x.shape[:2])
    rng = np.random.default_rng(seed)
    keep = length - int(round(drop_rate * length))
    idx = np.sort(np.argsort(rng.random((len(x), length)), axis=1)[:, :keep], axis=1)
    values = np.concatenate([np.take_along_axis(t, idx, 1)[..., None],
                             np.take_along_axis(x, idx[..., None], 1)], axis=-1)
    return _split(values, y, rng)


def _split(values, labels, rng):
    """The thesis' random 70/15/15 train/val/test split: dict(train=(values, labels), val=..., test=...)."""
    perm = rng.permutation(len(values))
    n_tr, n_va = int(0.7 * len(values)), int(0.15 * len(values))
    parts = {"train": perm[:n_tr], "val": perm[n_tr:n_tr + n_va], "test": perm[n_tr + n_va:]}
    return {k: (values[v], labels[v]) for k, v in parts.items()}


SPEECH_CLASSES = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")


def mfcc(signal, sample_rate: int = 16000, n_fft: int = 200, hop: int = 100, n_mels: int = 64,
         n_mfcc: int = 20):
    """Log-mel MFCCs of a 1-D signal (numpy): [frames, n_mfcc].  The thesis's settings: 20 coefficients,
    n_fft 200, 64 mel bins, giving 161 frames for a one-second clip."""
    signal = np.pad(signal, (n_fft // 2, n_fft // 2), mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(signal, n_fft)[::hop] * np.hanning(n_fft + 1)[:-1]
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)
    imel = lambda m: 700.0 * (10 ** (m / 2595.0) - 1.0)
    edges = imel(np.linspace(mel(0.0), mel(sample_rate / 2), n_mels + 2))
    freqs = np.linspace(0, sample_rate / 2, power.shape[1])
    lo, ce, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    fb = np.maximum(0.0, np.minimum((freqs - lo) / (ce - lo), (hi - freqs) / (hi - ce)))
    logmel = np.log(power @ fb.T + 1e-6)
    k = np.arange(n_mels)
    dct = np.cos(np.pi / n_mels * (k[None, :] + 0.5) * np.arange(n_mfcc)[:, None]) * np.sqrt(2.0 / n_mels)
    return (logmel @ dct.T).astype(np.float32)


def load_speech_commands(data_dir: str, seed: int = 0):
    """Speech Commands v0.02, the ten command words (34975 clips), as 20 MFCC channels + time.

    Expects ``<data_dir>/SpeechCommands/<word>/*.wav`` (16 kHz mono, from
    http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz).  Clips shorter than one second are
    skipped, as in the thesis; channels are normalised; split 70/15/15.  values [n, 161, 21].
    """
    root = os.path.join(data_dir or "", "SpeechCommands")
    require_path(root, "Speech Commands", SPEECH_COMMANDS_HINT)
    from scipy.io import wavfile
    feats, labels = [], []
    for label, word in enumerate(SPEECH_CLASSES):
        for path in sorted(glob.glob(os.path.join(root, word, "*.wav"))):
            rate, sig = wavfile.read(path)
            if len(sig) != 16000:
                continue
            feats.append(mfcc(sig.astype(np.float32) / 32768.0, rate))
            labels.append(label)
    if not feats:
        raise DataNotFoundError(f"no one-second .wav clips under {root}/<word>/ for words {SPEECH_CLASSES}")
    x = np.stack(feats)
    x = (x - x.mean(axis=(0, 1))) / (x.std(axis=(0, 1)) + 1e-6)
    t = np.broadcast_to(np.linspace(0.0, 1.0, x.shape[1], dtype=np.float32)[None, :, None], x.shape[:2] + (1,))
    return _split(np.concatenate([t, x], axis=-1), np.array(labels, np.int32), np.random.default_rng(seed))
