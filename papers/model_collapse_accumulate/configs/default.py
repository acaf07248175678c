"""Configs of the model-collapse (replace vs accumulate) reproduction: ``get_config("smoke"|"small"|"paper")``.

Commands (from the repo root):
  .venv/bin/python -m papers.model_collapse_accumulate.train --config=papers/model_collapse_accumulate/configs/default.py:small --workdir=/tmp/model_collapse_accumulate_small
  .venv/bin/python -m papers.model_collapse_accumulate.eval  --config=papers/model_collapse_accumulate/configs/default.py:small --workdir=/tmp/model_collapse_accumulate_small

smoke: 300 linear repeats x 5 generations, 20 Gaussian repeats x 6 generations, a VAE with 30 steps per
       generation on 300 digits for 3 generations, a 1-layer LM for 2 generations; seconds. Used by the end-to-end test (claims are computed,
       not expected to pass).
small: linear regression d = 10, T = 50, sigma = 1, 20 generations, 4000 Monte-Carlo repeats; a 5-D Gaussian
       fit to 200 real points for 50 generations, 400 repeats; a VAE (64-256-8) on 1400 sklearn digits,
       1500 Adam steps per generation, 5 generations; a 2-layer, d=64 char transformer on 256 x 48 characters of a
       generated corpus, 300 AdamW steps per generation, 4 generations. Expected: linear MC within 5% of both closed forms,
       Gaussian/VAE/LM held-out NLL rising under replace and not rising (within 5%) under accumulate.
       Measured: 7/8 claims pass (2d fails: the VAE's -ELBO under accumulate drifts up linearly, +0.17 to
       +0.24 nats per generation, instead of levelling off); train 4m13s wall / 3m10s CPU on a shared 2-core Intel Xeon CPU (no GPU),
       eval 4 s.
paper: 100000 linear repeats, 10000 Gaussian repeats, a 784-256-20 VAE on MNIST (``data_dir``), 10 generations,
       an 8-layer d=512 char transformer on TinyStories text (``data_dir/tinystories.txt``), 5 generations;
       not run here.
"""
import ml_collections

from common.config import build_config


def _base() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.checkpoint_every = 1                 # work units (one unit = one domain x regime feedback loop)
    c.data_dir = ""                        # MNIST IDX files and tinystories.txt for the paper variant

    c.linear = ml_collections.ConfigDict()
    c.linear.d, c.linear.T, c.linear.sigma = 10, 50, 1.0
    c.linear.generations = 20
    c.linear.reps = 4000

    c.gaussian = ml_collections.ConfigDict()
    c.gaussian.dim = 5
    c.gaussian.n_real = 200
    c.gaussian.generations = 50
    c.gaussian.reps = 400

    c.vae = ml_collections.ConfigDict()
    c.vae.dataset = "digits"               # "digits" (sklearn, offline) or "mnist" (needs data_dir)
    c.vae.n_train = 1400                   # real training images; the rest of the digits are held out
    c.vae.hidden, c.vae.latent = 256, 8
    c.vae.steps, c.vae.batch, c.vae.lr = 1500, 128, 1e-3
    c.vae.generations = 5

    c.lm = ml_collections.ConfigDict()
    c.lm.corpus = "generated"              # "generated" (bundled grammar) or "tinystories" (data_dir/tinystories.txt)
    c.lm.n_train, c.lm.n_test, c.lm.length = 256, 256, 48
    c.lm.d_model, c.lm.heads, c.lm.layers = 64, 4, 2
    c.lm.steps, c.lm.batch, c.lm.lr = 300, 32, 3e-3
    c.lm.generations = 4

    c.thresholds = ml_collections.ConfigDict()
    c.thresholds.closed_form_rel = 0.05    # claim 1: |MC / closed form - 1| over all generations
    c.thresholds.accumulate_rel = 0.05     # claim 2: accumulate stays within this of generation 1
    c.thresholds.replace_rise = 0.05       # claim 2: replace's last generation exceeds the first by this
    return c


def _smoke():
    c = _base()
    c.linear.generations, c.linear.reps = 5, 300
    c.gaussian.generations, c.gaussian.reps = 6, 20
    c.vae.n_train, c.vae.steps, c.vae.batch, c.vae.generations = 300, 30, 32, 3
    c.vae.hidden, c.vae.latent = 32, 4
    c.lm.n_train, c.lm.n_test, c.lm.length = 16, 16, 12
    c.lm.d_model, c.lm.heads, c.lm.layers = 16, 2, 1
    c.lm.steps, c.lm.batch, c.lm.generations = 5, 8, 2
    return c


def _small():
    return _base()


def _paper():
    c = _base()
    c.linear.reps = 100000
    c.gaussian.reps = 10000
    c.vae.dataset, c.vae.n_train = "mnist", 60000
    c.vae.hidden, c.vae.latent = 256, 20
    c.vae.steps, c.vae.batch, c.vae.generations = 20000, 256, 10
    c.lm.corpus, c.lm.n_train, c.lm.n_test, c.lm.length = "tinystories", 200000, 4096, 256
    c.lm.d_model, c.lm.heads, c.lm.layers = 512, 8, 8
    c.lm.steps, c.lm.batch, c.lm.generations = 20000, 256, 5
    return c


def get_config(arg=None):
    return build_config(arg, {"smoke": _smoke, "small": _small, "paper": _paper})
