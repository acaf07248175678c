"""Configs of papers/monotone_dbm: ``smoke`` (tests), ``small`` (the claims on CPU), ``paper``.

  smoke: python -m papers.monotone_dbm.train --config=papers/monotone_dbm/configs/default.py:smoke --workdir=/tmp/monotone_dbm_smoke
         tiny analyses and 4 training steps of a pixels + label model on digits; seconds, almost all
         of it XLA compilation. Claims are not expected to pass.
  small: python -m papers.monotone_dbm.train --config=papers/monotone_dbm/configs/default.py:small --workdir=/tmp/monotone_dbm_small
         then the same with papers.monotone_dbm.eval. Measured 2026-11-28 on a shared 2-core Xeon CPU:
         train (incl. eval) 2m20s wall, 163 s CPU at load 3-5 (3m09s at load 2-5 before the test-time
         changes, same results); eval.py alone 26 s.
         Result: 2/3 claims pass. Claim 1 passes: 20 starts agree to 5e-10, while naive MF oscillates on
         the unscaled W and on the RBM (at rbm_scale 6; at 3 naive MF on the RBM converges and claim 1
         would fail). Claim 2 passes: residual 2e-12, and KL(q‖p) and the marginal KL each equal the
         best of 100 restarts. Claim 3 fails: accuracy is 82.7% (> 80%), but the completion MSE, 0.0524, is not
         below 0.75 x the per-pixel-mean baseline's 0.0534 (linear regression: 0.0289).
  paper: MNIST (config.data.data_dir must hold the IDX files) with the paper's convolutional DBM
         (28x28x20 -> 14x14x(10x4) -> 7x7x(20x4) -> 10), 20 bins, 40% observed, alpha = 0.125,
         Anderson 50 iterations, Adam 1e-3 with cosine decay, batch 128 sharded over the 'data' axis,
         40 epochs. Needs a GPU; not run here.
Overrides: ``...default.py:small,seed=3`` or ``--config.train.num_steps=500``.
"""
from __future__ import annotations

import ml_collections

from common.config import build_config


def _base() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.checkpoint_every = 100
    c.log_every = 25

    # Claim 3: joint completion + classification.
    c.data = ml_collections.ConfigDict(dict(dataset="digits", data_dir="", num_bins=4, observed=0.5,
                                            num_test=497, num_eval_masks=2))
    # layers: (H, W, units per position, categories); couplings: (row i, column j, kernel) of A.
    c.model = ml_collections.ConfigDict(dict(
        layers=((8, 8, 1, 4), (4, 4, 8, 4), (1, 1, 1, 10)),
        couplings=((0, 0, 3), (1, 0, 3), (1, 1, 3), (2, 0, 1), (2, 1, 1), (2, 2, 1)),
        m=0.01, init_scale=1.0, bias_scale=0.1))
    c.solver = ml_collections.ConfigDict(dict(alpha=0.5, memory=5, lam=1e-4, max_iter=30, tol=1e-3))
    c.train = ml_collections.ConfigDict(dict(batch_size=32, num_steps=800, learning_rate=1e-2,
                                             end_learning_rate=1e-4, clf_weight=0.5, eval_batch=512,
                                             focal_gamma=2.0, focal_beta=0.9999))

    # Claim 1: uniqueness of the monotone fixed point vs naive mean-field on unconstrained models.
    c.uniqueness = ml_collections.ConfigDict(dict(
        num_units=50, num_categories=4, weight_scale=3.0, bias_scale=1.0, m=0.1, num_starts=20,
        alpha=0.25, max_iter=2000, tol=1e-10, naive_iters=2000,
        rbm_visible=25, rbm_hidden=25, rbm_scale=6.0))
    # Claim 2: exact enumeration on a small model.
    c.enumeration = ml_collections.ConfigDict(dict(
        num_units=12, num_categories=2, weight_scale=2.0, bias_scale=1.0, m=0.1, num_restarts=50,
        alpha=0.25, max_iter=2000, tol=1e-12, naive_iters=2000, sequential_sweeps=500))
    return c


def _smoke() -> ml_collections.ConfigDict:
    """Seconds of compute, mostly XLA compilation: the end-to-end test's config."""
    c = _base()
    c.checkpoint_every = 2
    c.log_every = 2
    c.data.update(num_test=32, num_eval_masks=1)
    # pixels and label only (no hidden layer): the fewest convolutions to compile; the multi-tier
    # convolutional coupling is covered by the unit tests.
    c.model.update(layers=((8, 8, 1, 4), (1, 1, 1, 10)), couplings=((0, 0, 3), (1, 0, 1), (1, 1, 1)))
    c.solver.update(alpha=1.0, max_iter=10)   # exact softmax prox: keeps the test's compile short
    c.train.update(batch_size=8, num_steps=4, eval_batch=32)
    # the analyses' shapes and solver settings equal those of analysis_test.py, so a test session
    # compiles these float64 solvers once
    c.uniqueness.update(num_units=6, num_categories=2, num_starts=10, max_iter=1000, tol=1e-12, naive_iters=300,
                        rbm_visible=3, rbm_hidden=3)
    c.enumeration.update(num_units=6, num_restarts=10, max_iter=1000, naive_iters=300, sequential_sweeps=200)
    return c


def _small() -> ml_collections.ConfigDict:
    return _base()


def _paper() -> ml_collections.ConfigDict:
    c = _base()
    c.checkpoint_every = 1000
    c.log_every = 100
    c.data.update(dataset="mnist", data_dir="", num_bins=20, observed=0.4, num_test=10000, num_eval_masks=1)
    c.model.update(
        layers=((28, 28, 1, 20), (14, 14, 10, 4), (7, 7, 20, 4), (1, 1, 1, 10)),
        couplings=((0, 0, 3), (1, 0, 3), (1, 1, 3), (2, 0, 3), (2, 1, 3), (2, 2, 3), (3, 2, 1), (3, 3, 1)),
        m=0.01)
    c.solver.update(alpha=0.125, memory=5, lam=1e-4, max_iter=50, tol=1e-2)
    c.train.update(batch_size=128, num_steps=40 * 469, learning_rate=1e-3, end_learning_rate=1e-6,
                   eval_batch=400)
    return c


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    return build_config(arg, {"smoke": _smoke, "small": _small, "paper": _paper})
