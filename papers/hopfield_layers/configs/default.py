"""Configs of papers/hopfield_layers: ``smoke`` (tests), ``small`` (the claims on CPU), ``paper``.

  smoke: python -m papers.hopfield_layers.train --config=papers/hopfield_layers/configs/default.py:smoke --workdir=/tmp/hopfield_smoke
         tiny grids, one MIL run of 10 steps (checkpoint every 2); train+eval ~20 s CPU time on a shared
         2-core Xeon. Claims are not expected to pass (mil_pooling fails at this size).
  small: python -m papers.hopfield_layers.train --config=papers/hopfield_layers/configs/default.py:small --workdir=/tmp/hopfield_layers_small
         then the same with papers.hopfield_layers.eval. Expected: all 4 claims pass (one-step retrieval
         >= 99% up to N = 10^4 at beta = 8 while the Hebbian net is >= 99% at N = 2 and < 99% from N = 9
         on; monotone energy and the three regimes, the metastable states averaging 9.3 patterns of a
         cluster of 8; layer == flax attention to 7e-7; Hopfield-pooling AUC >= 0.95).
         Measured 2026-11-27 on a shared 2-core Xeon CPU (load ~8): train (incl. eval) 3m49s wall,
         1m47s CPU; 4/4 claims pass (numbers in the README). eval.py alone: 60 s wall.
  paper: the paper's MIL setting on Tiger (mil.dataset: tiger, fox or elephant, from config.mil.data_dir;
         sharded batch over the 'data' axis); claim 4's bar is the paper's AUC on that data set (Tiger 0.91).
         MIL only: the paper's UCI benchmark has no setting here. Needs the data sets (not bundled); GPU/TPU.
Overrides: ``...default.py:small,seed=3`` or ``--config.mil.num_steps=500``.
"""
from __future__ import annotations

import ml_collections

from common.config import build_config


def _base() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.checkpoint_every = 250
    c.log_every = 50

    # Claim 1: one-step retrieval of masked +-1 patterns (modern) vs Hebbian Hopfield net (classical).
    c.retrieval = ml_collections.ConfigDict(dict(
        dim=64, mask_fraction=0.3, num_queries=1000,
        num_patterns=(2, 4, 6, 8, 9, 10, 12, 16, 32, 100, 1000, 10000),
        betas=(0.01, 0.03, 0.0625, 0.125, 0.25, 1.0, 8.0),
        beta=8.0))                      # the beta at which claim 1 is checked (the brief's choice)

    # Claim 2: energy along Eq. (3) and the fixed-point regimes vs beta (clustered patterns).
    c.regimes = ml_collections.ConfigDict(dict(
        dim=32, num_clusters=4, cluster_size=8, spread=0.3, num_states=64, start_noise=0.05,
        beta_min=0.01, beta_max=1e4, num_betas=25, steps=200))

    # Claim 3: Hopfield layer vs flax.linen.MultiHeadDotProductAttention with the same weights.
    c.equivalence = ml_collections.ConfigDict(dict(
        batch=3, num_states=5, num_stored=11, input_dim=24, num_heads=4, qkv_features=32, out_features=12))

    # Claim 4: multiple-instance learning on digit bags.
    c.mil = ml_collections.ConfigDict(dict(
        dataset="digits", data_dir="", fold=0, num_folds=10,
        pooling="hopfield", target_digit=9, bag_mean=10.0, bag_std=2.0, bag_min=2, bag_max=16,
        train_fraction=0.5, num_train_bags=400, num_test_bags=1000,
        batch_size=16, num_steps=500, learning_rate=1e-3, weight_decay=1e-4,
        hidden=64, embed=32, num_heads=4, qkv_features=32, beta=None, update_steps=1,
        normalize=False, attention_dim=32,
        # The sweep (besides the main run above, which lives in the workdir root):
        sweep_poolings=("hopfield", "attention", "mean", "max"), sweep_seeds=(0, 1, 2),
        sweep_train_sizes=(50, 100, 200, 400)))
    return c


def _smoke() -> ml_collections.ConfigDict:
    c = _base()
    c.checkpoint_every = 2
    c.log_every = 2
    c.retrieval.update(num_patterns=(2, 9, 100), betas=(0.125, 8.0), num_queries=64)
    c.regimes.update(num_states=8, num_betas=5, steps=20)
    c.mil.update(num_train_bags=32, num_test_bags=64, num_steps=10, sweep_poolings=("hopfield",),
                 sweep_seeds=(0,), sweep_train_sizes=(32,))
    return c


def _small() -> ml_collections.ConfigDict:
    return _base()


def _paper() -> ml_collections.ConfigDict:
    c = _base()
    c.checkpoint_every = 1000
    c.log_every = 100
    c.retrieval.update(num_queries=10000)
    c.mil.update(dataset="tiger", data_dir="", bag_max=128, batch_size=16, num_steps=4000,
                 learning_rate=1e-3, weight_decay=1e-4, hidden=128, embed=128, num_heads=8,
                 qkv_features=128, beta=1.0, normalize=True, attention_dim=128,
                 sweep_poolings=("hopfield", "attention", "mean", "max"), sweep_seeds=(0, 1, 2, 3, 4),
                 sweep_train_sizes=())
    return c


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    return build_config(arg, {"smoke": _smoke, "small": _small, "paper": _paper})
