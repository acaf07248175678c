"""Configs of papers/stochastic_interpolants: ``smoke`` (tests), ``small`` (the claims on CPU), ``paper``.

  smoke: python -m papers.stochastic_interpolants.train --config=papers/stochastic_interpolants/configs/default.py:smoke --workdir=/tmp/stochastic_interpolants_smoke
         30 Adam steps per run, tiny nets and sample sets; about 40 s CPU on the shared 2-core machine
         (mostly compilation). Claims are not expected to pass.
  small: python -m papers.stochastic_interpolants.train --config=papers/stochastic_interpolants/configs/default.py:small --workdir=/tmp/stochastic_interpolants_small
         then the same with papers.stochastic_interpolants.eval. N(0, I) -> ring of 8 Gaussians and
         2-mode mixture -> ring, linear interpolant with gamma = sqrt(t(1-t)), MLP b and s, 3000 Adam
         steps each. Expected: 4/4 claims pass. Measured 2026-11-27 on a shared 2-core CPU (load 4-7):
         train+eval 286 s wall (196 s CPU), eval.py alone 184 s wall; numbers in the README.
  paper: the paper's image setting: a U-Net b and s on images from config.images.data_dir
         (CIFAR-10 binary batches by default, or images.dataset=npy: an .npy array of images such as the
         paper's Oxford flowers 128x128; samples with the ODE only), global batch
         sharded over the 'data' axis, plus the GMM claims at larger sample sizes. Needs the data and a GPU/TPU.
Overrides: ``...default.py:small,seed=3`` or ``--config.train.num_steps=500``.
"""
from __future__ import annotations

import ml_collections

from common.config import build_config


def _base() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.checkpoint_every = 500
    c.log_every = 100
    c.interpolant = ml_collections.ConfigDict(dict(path="linear", gamma="brownian", gamma_scale=1.0))
    c.target = "ring8"                 # common.data.mixture_2d name of rho1
    c.mixture_base = "pair"            # rho0 of the mixture-to-mixture run (claim 4)
    c.score_param = "score"            # 'score' (L_s objective) or 'denoiser' (eta = E[n|x_t], s = -eta/sigma)
    c.model = ml_collections.ConfigDict(dict(kind="mlp", hidden=(128, 128, 128), time_freqs=4, channels=(64,)))
    c.train = ml_collections.ConfigDict(dict(num_steps=3000, batch_size=512, learning_rate=2e-3,
                                             warmup_steps=100, t_min=1e-3))
    c.eval = ml_collections.ConfigDict(dict(
        num_samples=4000, num_steps=100, eps_grid=(0.0, 0.1, 0.25, 0.5, 1.0, 2.0), eps_claim=0.5,
        repeats=3, num_directions=256, box=6.0, bins=40, l2_points=20000, l2_t_range=(0.05, 0.95),
        likelihood_points=500, likelihood_steps=100, denoiser_sigma_floor=1e-2))
    c.images = ml_collections.ConfigDict(dict(enabled=False, dataset="cifar10", data_dir="", num_steps=200000,
                                              batch_size=128, learning_rate=2e-4, sample_steps=200,
                                              num_samples=64))
    c.images.model = ml_collections.ConfigDict(dict(kind="unet", hidden=(), time_freqs=16, channels=(64, 128)))
    return c


def _smoke() -> ml_collections.ConfigDict:
    c = _base()
    c.checkpoint_every = 20
    c.log_every = 10
    c.model.hidden = (32, 32)
    c.train.update(num_steps=30, batch_size=64, warmup_steps=5)
    c.eval.update(num_samples=256, num_steps=10, eps_grid=(0.0, 0.5), repeats=2, num_directions=16, bins=12,
                  l2_points=512, likelihood_points=0, likelihood_steps=40)
    return c


def _small() -> ml_collections.ConfigDict:
    return _base()


def _paper() -> ml_collections.ConfigDict:
    c = _base()
    c.checkpoint_every = 5000
    c.log_every = 500
    c.model.hidden = (512, 512, 512, 512)
    c.train.update(num_steps=20000, batch_size=4096, learning_rate=1e-3)
    c.eval.update(num_samples=50000, num_steps=400, repeats=5, num_directions=1024, bins=80,
                  l2_points=200000, likelihood_points=5000, likelihood_steps=400)
    c.images.update(enabled=True)
    c.images.model.channels = (128, 256, 256)
    return c


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    return build_config(arg, {"smoke": _smoke, "small": _small, "paper": _paper})
