"""Configs of papers/martingale_td: ``smoke`` (tests), ``small`` (the claims on CPU), ``paper``.

  smoke: python -m papers.martingale_td.train --config=papers/martingale_td/configs/default.py:smoke --workdir=/tmp/martingale_td_smoke
         64 paths, dt in {1/20, 1/40} (claim 3: 1/20, 1/40 against 1/80), offline methods only (online and
         neural fits are off here; methods_test covers them); seconds, most of it XLA compilation. Claims are
         computed, not expected to pass at this size.
  small: python -m papers.martingale_td.train --config=papers/martingale_td/configs/default.py:small --workdir=/tmp/martingale_td_small
         python -m papers.martingale_td.eval  --config=papers/martingale_td/configs/default.py:small --workdir=/tmp/martingale_td_small
         OU example (kappa = sigma = T = 1, r = x^2) with 10,000 Euler paths at dt = 1e-2 and 1e-3 (one Brownian
         motion) for all methods; claim 2: exact infinite-path estimators of the Euler chain at both steps plus
         100,000 Monte Carlo paths (20 batches, jackknife SEs); claim 3: exact estimators at dt = 1/50 .. 1/1000
         against dt = 1/4000, plus 20,000 (OU) / 40,000 (MV) Monte Carlo paths driving all grids; the
         mean-variance application with 10,000 paths. Expected: ML, TD(0), TD(lambda), LSTD within 5 % of J,
         MSTDE > 20 %; exact ML/TD errors shrink ~10x from dt = 1e-2 to 1e-3 and MSTDE's does not; exact
         discretisation error ~ dt^1; Monte Carlo consistent with the exact values. Measured 2026-11-28 on a
         shared 2-core CPU: 2 min 20 s wall, 2 min 31 s CPU at load 3.5-4; 4/4 claims pass.
  paper: the same study at the sizes of a GPU/TPU run (10^5 paths for the main fits, 6.4 M Monte Carlo paths
         for claim 2, 0.64 M (OU) / 2.56 M (MV) for claim 3, reference grid dt = 1/16000; the exact statistics
         on that grid need O(16000^2) float64 arrays, about 20 GB of host memory); not run here.
Overrides: ``...default.py:small,seed=3`` or ``--config.n_paths=2000``.
"""
from __future__ import annotations

import ml_collections

from common.config import build_config


def _base() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.checkpoint_every = 1            # work units
    c.log_every = 1

    c.ou = ml_collections.ConfigDict(dict(name="ou", kappa=1.0, sigma=1.0, q=0.0, horizon=1.0, x0_std=1.0,
                                          rho=0.0, lam=0.0, x0=0.0, z=0.0))
    c.mv = ml_collections.ConfigDict(dict(name="mv", kappa=0.0, sigma=0.5, q=0.0, horizon=1.0, x0_std=0.25,
                                          rho=0.8, lam=0.5, x0=1.0, z=1.4))

    c.n_paths = 10000                 # training paths per replication
    c.n_paths_brief = 2000            # the brief's 2k paths: offline errors also reported on this subset
    c.n_fine = 1000                   # finest grid of the main study (dt = T / n_fine)
    c.strides = (10, 1)               # main study grids: dt = 1e-2 and 1e-3
    c.seg_len = 50                    # Euler steps per call of the moment accumulator (moments.py)
    c.rng_block = 1000                # fine steps of Brownian increments drawn per key (moments.py)
    # claim 2: Monte Carlo on pooled path batches (grids c.strides of one Brownian motion per batch),
    # next to the exact infinite-path (expected-statistics) estimators of the OU Euler chain
    c.pool = ml_collections.ConfigDict(dict(units=2, batches_per_unit=10, batch_paths=5000))
    c.chunk = 500                     # paths per chunk when accumulating statistics
    c.time_degree = 4                 # Legendre polynomials in t per state feature (d = 2 * time_degree)
    c.mv_time_degree = 2
    c.test_degree = 6                 # GTD test functions (m = 2 * test_degree > d)
    c.td_lambda = 0.5                 # lambda of TD(lambda): test function sum lambda^{t-s} phi_s ds
    c.eval_paths = 4000
    c.eval_steps = 200

    c.online = ml_collections.ConfigDict(dict(batch_paths=50, epochs=5, lr_td0=0.5, lr_td_lambda=2.0, lr_ml=0.5,
                                              lr_decay_batches=20.0))
    c.neural = ml_collections.ConfigDict(dict(hidden=(32, 32), steps=600, batch_paths=32, lr=3e-3))

    # claim 3: per problem, units x batches_per_unit batches of batch_paths paths; every batch drives all grids
    # dt = T s / n_fine (s in strides) and the reference grid (s = 1) with one Brownian motion
    c.conv = ml_collections.ConfigDict(dict(n_fine=4000, strides=(80, 40, 20, 8, 4), batch_paths=2500,
                                            units_ou=1, units_mv=2, batches_per_unit=8))
    c.threshold_good = 0.05           # claim 1: ML / TD recover J within this relative L2 error
    c.threshold_bad = 0.20            # claim 1: MSTDE error above this
    c.consistency_ratio = 2.0         # claims 2, 3: |theta_MC - theta_exact|_Q below this many jackknife noise scales
    return c


def _smoke() -> ml_collections.ConfigDict:
    c = _base()
    # main grids dt = 1/20, 1/40; the evaluation paths have the sizes of the finest main grid (64 x 40), so the
    # stride-1 Euler and noise programs compiled for it serve them too (the end-to-end test is compile-bound)
    c.n_paths, c.n_paths_brief, c.n_fine, c.strides, c.chunk = 64, 64, 40, (2, 1), 32
    c.seg_len, c.rng_block = 10, 40
    c.pool.update(units=1, batches_per_unit=3, batch_paths=64)
    c.eval_paths, c.eval_steps = 64, 40
    c.online.update(batch_paths=16, epochs=0)   # 0 (with neural.steps=0): online fits off
    c.neural.update(hidden=(8,), steps=0, batch_paths=8)   # 0: no neural fits (tested on their own)
    c.conv.update(n_fine=80, strides=(4, 2), batch_paths=64, units_ou=1, units_mv=1, batches_per_unit=3)
    return c


def _small() -> ml_collections.ConfigDict:
    return _base()


def _paper() -> ml_collections.ConfigDict:
    c = _base()
    c.n_paths = 100000
    c.pool.update(units=16, batches_per_unit=20, batch_paths=20000)   # 6.4 M paths
    c.chunk = 2000
    c.eval_paths = 20000
    c.online.update(epochs=10)
    c.neural.update(hidden=(64, 64), steps=5000, batch_paths=128)
    c.conv.update(n_fine=16000, strides=(320, 160, 80, 32, 16, 8), batch_paths=20000, units_ou=8, units_mv=32,
                  batches_per_unit=4)
    return c


def get_config(arg=None):
    return build_config(arg, {"smoke": _smoke, "small": _small, "paper": _paper})
