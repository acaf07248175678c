"""Configs for Sinkhorn-Newton-Sparse (Tang et al., ICLR 2024).

Commands (from the repo root):
  python -m papers.sinkhorn_newton_sparse.train --config=papers/sinkhorn_newton_sparse/configs/default.py:small --workdir=/tmp/sinkhorn_newton_sparse_small
  python -m papers.sinkhorn_newton_sparse.eval  --config=papers/sinkhorn_newton_sparse/configs/default.py:small --workdir=/tmp/sinkhorn_newton_sparse_small

Variants:
  smoke  n = 49 problems, every work unit once; 8-15 s on a CPU (mostly XLA compilation). Used by the tests.
  small  random assignment n = 500, eta = 1200 (the paper's Table 1 setting); 20x20 digit pairs (n = 400);
         expected: claims 1-3 pass, claim 4 fails (top-2n mass 0.93 < 0.99 after 20 Sinkhorn steps at
         eta = 1200); SNS 35 iterations / 1.1 s vs Sinkhorn 26,162 iterations / 75 s on random assignment.
         Measured with the earlier CG cap 2(n+m): ~4 min 10 s on a shared 2-core CPU (load 4-9), no GPU,
         2026-11-27.
  paper  the paper's Table 1 scale: n = 500 random assignment and 28x28 MNIST pairs (n = 784, needs
         data_dir with the MNIST IDX files), eta = 1200, run to 1e-10 (double precision), 5 timing
         repeats. Not run here (hours of Sinkhorn on CPU); any CPU/GPU with 16 GB suffices.
"""
from __future__ import annotations

import ml_collections

from common.config import build_config


def _base() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.checkpoint_every = 1     # work units between checkpoints
    c.log_every = 1

    c.solver = ml_collections.ConfigDict()
    c.solver.tol = 1e-10            # l1 marginal error to reach
    c.solver.n_sinkhorn = 20        # N1, stage-1 Sinkhorn steps (Algorithm 1)
    c.solver.sparsity_factor = 2.0  # lambda = factor / n (paper: 2/n for unique-solution costs)
    c.solver.cg_tol = 1e-6          # relative CG residual (inexact Newton)
    c.solver.cg_max_iter = 5000     # CG cap per Newton step; the solver's default 2(n+m) stalled Newton at large eta
    c.solver.jacobi = True          # Jacobi-preconditioned CG
    c.solver.fallback_steps = 10    # Sinkhorn steps after a stalled Newton step
    c.solver.max_iter_sns = 2000
    c.solver.max_iter_sinkhorn = 100_000

    c.timing = ml_collections.ConfigDict()
    c.timing.repeats = 5            # timed repeats of SNS (median)
    c.timing.sinkhorn_repeats = 1   # timed repeats of the slow baseline (median)

    c.random = ml_collections.ConfigDict()
    c.random.n = 500
    c.random.eta = 1200.0

    c.images = ml_collections.ConfigDict()
    c.images.source = "digits"      # 'digits' (sklearn, offline) or 'mnist' (needs data_dir)
    c.images.data_dir = ""
    c.images.side = 20
    c.images.pair = (0, 1)
    c.images.floor = 1e-3           # uniform mass mixed in so every pixel is positive
    c.images.eta = 1200.0
    c.images.l2_sparsity_factor = 4.0
    c.images.l1_sparsity_factor = 15.0  # paper: 15/n for the non-unique L1 cost
    c.images.l1_n_sinkhorn = 700        # paper Table 1: 700 Sinkhorn steps before Newton for MNIST-L1
    c.images.l1_max_iter_sns = 1000     # iteration caps of the L1 unit (neither method reaches 1e-10 quickly)
    c.images.l1_max_iter_sinkhorn = 10_000

    c.grid = ml_collections.ConfigDict()
    c.grid.side = 20
    c.grid.eta = 1200.0
    c.grid.sparsity_factor = 4.0

    c.pot = ml_collections.ConfigDict()
    c.pot.n = 200
    c.pot.eta = 100.0
    c.pot.tol = 1e-13

    c.sweep = ml_collections.ConfigDict()
    c.sweep.n = 100
    c.sweep.etas = (10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0)

    c.sparsity = ml_collections.ConfigDict()
    c.sparsity.n = 500
    c.sparsity.etas = (300.0, 1200.0, 4800.0)
    c.sparsity.steps = 200
    c.sparsity.top_factor = 2       # mass in the top (top_factor * n) entries
    c.sparsity.limit_tol = 1e-8     # the converged plan for eps_inf: SNS to this l1 error ...
    c.sparsity.limit_max_iter = 150  # ... or this many iterations (eta = 4800 needs 51 with cg_max_iter = 5000)

    c.batch = ml_collections.ConfigDict()
    c.batch.size = 4
    c.batch.n = 100
    c.batch.eta = 300.0
    c.batch.method = "sns"
    return c


def _smoke() -> ml_collections.ConfigDict:
    c = _base()
    c.solver.max_iter_sns = 400
    c.solver.max_iter_sinkhorn = 20_000
    c.timing.repeats = 1
    c.random.n = 49
    c.random.eta = 100.0
    c.images.side = 7
    c.images.eta = 100.0
    c.images.l2_sparsity_factor = 2.0
    c.images.l1_sparsity_factor = 2.0
    c.images.l1_n_sinkhorn = 20
    c.images.l1_max_iter_sns = 400
    c.images.l1_max_iter_sinkhorn = 20_000
    c.grid.side = 7
    c.grid.eta = 100.0
    c.grid.sparsity_factor = 2.0
    c.pot.n = 49
    c.pot.eta = 30.0
    c.sweep.n = 49
    c.sweep.etas = (10.0, 100.0)
    c.sparsity.n = 49
    c.sparsity.etas = (100.0,)
    c.sparsity.steps = 20
    c.batch.size = 2
    c.batch.n = 49
    c.batch.eta = 100.0
    c.batch.method = "sinkhorn"   # the vmapped SNS compile alone takes ~10 s; tested in the small run
    return c


def _small() -> ml_collections.ConfigDict:
    return _base()


def _paper() -> ml_collections.ConfigDict:
    c = _base()
    c.timing.repeats = 5
    c.timing.sinkhorn_repeats = 5
    c.solver.max_iter_sinkhorn = 200_000
    c.images.source = "mnist"
    c.images.data_dir = "data/mnist"
    c.images.side = 28
    c.grid.side = 32
    c.pot.n = 500
    c.sweep.n = 500
    c.sparsity.n = 500
    c.batch.size = 16
    c.batch.n = 500
    c.batch.eta = 1200.0
    return c


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    return build_config(arg, {"smoke": _smoke, "small": _small, "paper": _paper})
