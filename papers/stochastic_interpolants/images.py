"""The paper-scale image setting: b and s as U-Nets, N(0, I) -> images, batch sharded over 'data'.

Data come from ``config.images.data_dir``: CIFAR-10's binary batches (dataset='cifar10', via
common.data.load_cifar10) or an ``images.npy`` array [N, H, W, C] uint8 (dataset='npy', e.g. Oxford
flowers resized to 128x128). A missing directory raises common.data.DataNotFoundError before any work.
"""
from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np

from common import checkpoint, data, training
from papers.stochastic_interpolants import models, samplers
from papers.stochastic_interpolants.interpolants import from_config


def _npy_path(ic) -> str:
    return data.require_path(os.path.join(ic.data_dir, "images.npy") if ic.data_dir else "", "images.npy",
                             "Save the images (e.g. Oxford flowers at 128x128) as a uint8 array [N, H, W, C] "
                             "named images.npy in config.images.data_dir.")


def check_images(ic) -> None:
    """Raises DataNotFoundError if the configured image set is absent (files located and sized, not read)."""
    if ic.dataset == "npy":
        _npy_path(ic)
    elif ic.dataset == "cifar10":
        data.cifar10_files(ic.data_dir, "train")
    else:
        load_images(ic)                                   # raises the unknown-dataset error


def load_images(ic) -> np.ndarray:
    """float32 images in [-1, 1], [N, H, W, C]."""
    if ic.dataset == "cifar10":
        x, _ = data.load_cifar10(ic.data_dir, "train")
    elif ic.dataset == "npy":
        x = np.load(_npy_path(ic), allow_pickle=False)
    else:
        raise ValueError(f"unknown image dataset {ic.dataset!r}; choose 'cifar10' or 'npy'")
    return x.astype(np.float32) / 127.5 - 1.0


def get_batch(config, images: np.ndarray, step: int) -> dict:
    """{t, x0, x1, z} of ``step``; deterministic in (seed, step)."""
    ic = config.images
    rng = np.random.default_rng([config.seed, int(step), 11])
    x1 = images[rng.integers(0, len(images), ic.batch_size)]
    return {"t": rng.uniform(config.train.t_min, 1 - config.train.t_min, ic.batch_size).astype(np.float32),
            "x0": rng.standard_normal(x1.shape, np.float32), "x1": x1,
            "z": rng.standard_normal(x1.shape, np.float32)}


def _image_config(config):
    c = config.copy_and_resolve_references()
    with c.unlocked():
        c.train.update(num_steps=config.images.num_steps, batch_size=config.images.batch_size,
                       learning_rate=config.images.learning_rate)
    return c


def train(config, workdir: str):
    from papers.stochastic_interpolants import experiment
    images = load_images(config.images)
    ic = _image_config(config)
    model = models.make_field(config.images.model)
    state = experiment.init_state(model, ic.train, jax.random.PRNGKey(config.seed), jnp.zeros((1,) + images.shape[1:]))
    return training.run_data_parallel(workdir, config, state, experiment.make_train_step(ic, ic.train, config.images.model),
                                      lambda step: get_batch(ic, images, step), batch_size=ic.train.batch_size,
                                      num_steps=ic.train.num_steps, name="images")


def _no_checkpoint(workdir: str) -> FileNotFoundError:
    return FileNotFoundError(f"no image checkpoint in {workdir}: train the paper config (images.enabled) first; "
                             "samples of untrained networks are not drawn")


def sample_figure(config, workdir: str, path: str) -> str:
    """Probability-flow ODE samples (eps = 0 only) of the trained image model as a grid PNG.
    Raises FileNotFoundError, before reading any data, if ``workdir`` holds no image checkpoint."""
    from papers.stochastic_interpolants import experiment
    if not os.path.isdir(os.path.join(workdir, "checkpoints")):
        raise _no_checkpoint(workdir)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = load_images(config.images)
    ic = _image_config(config)
    model = models.make_field(config.images.model)
    state = experiment.init_state(model, ic.train, jax.random.PRNGKey(config.seed), jnp.zeros((1,) + images.shape[1:]))
    with checkpoint.Checkpointer(workdir, config) as ckpt:
        if ckpt.latest_step() is None:
            raise _no_checkpoint(workdir)
        params = ckpt.restore_or(state).params
    n = config.images.num_samples
    x0 = jax.random.normal(jax.random.PRNGKey(config.seed), (n,) + images.shape[1:])
    b = lambda t, x: model.apply({"params": params["b"]}, jnp.full(x.shape[:1], t), x)
    x1 = np.asarray(jax.jit(lambda x: samplers.ode_sample(b, x, config.images.sample_steps))(x0))
    side = int(np.ceil(np.sqrt(n)))
    fig, axes = plt.subplots(side, side, figsize=(side, side))
    for ax, img in zip(np.ravel(axes), x1):
        ax.imshow(np.clip((img + 1) / 2, 0, 1).squeeze())
    for ax in np.ravel(axes):
        ax.axis("off")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
