"""Configs of the EF21-W reproduction: ``get_config("smoke" | "small" | "paper")``.

Commands (from the repo root):
  .venv/bin/python -m papers.ef21_weighted.train --config=papers/ef21_weighted/configs/default.py:small --workdir=/tmp/ef21_weighted_small
  .venv/bin/python -m papers.ef21_weighted.eval  --config=papers/ef21_weighted/configs/default.py:small --workdir=/tmp/ef21_weighted_small

smoke: seconds of compute (about 30 s wall on a loaded 2-core CPU, including the 8-device
       subprocess); used by the end-to-end test (claims are computed, not expected to pass).
small: least squares n=100, d=50, L_i log-uniform on [1, 1e3], Top-1; digits logistic regression
       over 50 clients. Expected: EF21-W and EF21 with the L_AM step need about 1.7x fewer rounds
       than EF21 with the L_QM step (analytic ratio 1.70), identical iterates for equal L_i, no
       divergence, sharded == single device. Measured: 6/6 claims pass (speedup 1.750 vs 1.698 on
       least squares, 1.421 vs 1.421 on logistic regression; plain GD at the same steps: 1.700 and
       1.421, i.e. the speedup is the step ratio); train 6m31s wall / 2m52s CPU on a
       shared 2-core CPU under load average 7-10 (no GPU), eval about 10 s.
paper: the same least-squares study plus logistic regression on a LIBSVM file (a9a) split over
       1,000 clients with the sharded client axis over all devices; needs ``data_dir``. Not run here.
"""
from common.config import build_config
import ml_collections


def _base() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.checkpoint_every = 1          # work units (one unit = one algorithm run)
    c.k = 1                         # Top-k / Rand-k
    c.sgd_batch = 5                 # minibatch rows per client for EF21(-W)-SGD
    c.participation = 0.5           # probability that a client takes part (EF21(-W)-PP)

    c.ls = ml_collections.ConfigDict()
    c.ls.n_clients = 100
    c.ls.dim = 50
    c.ls.rows = 50
    c.ls.L_min = 1.0
    c.ls.L_max = 1000.0
    c.ls.L_hom = 100.0
    c.ls.kappa = 10.0
    c.ls.noise = 1.0
    c.ls.rounds = 4000
    c.ls.tol = 1e-6

    c.logreg = ml_collections.ConfigDict()
    c.logreg.source = "digits"      # 'digits' (offline, sklearn) or 'libsvm'
    c.logreg.dataset = "a9a"        # file name under data_dir when source == 'libsvm'
    c.logreg.data_dir = ""
    c.logreg.n_clients = 50
    c.logreg.lam = 1e-3
    c.logreg.size_spread = 10.0
    c.logreg.scale_spread = 10.0
    c.logreg.rounds = 5000
    c.logreg.tol = 0.1

    c.shard_check = ml_collections.ConfigDict()
    c.shard_check.devices = 8
    c.shard_check.n_clients = 100
    c.shard_check.dim = 50
    c.shard_check.rounds = 300
    return c


def _smoke():
    c = _base()
    c.checkpoint_every = 4
    c.ls.n_clients, c.ls.dim, c.ls.rows, c.ls.rounds, c.ls.tol = 12, 10, 10, 400, 1e-4
    c.ls.L_max = 100.0
    c.sgd_batch = 2
    c.logreg.n_clients, c.logreg.rounds, c.logreg.tol = 6, 200, 0.5
    c.shard_check.devices, c.shard_check.n_clients, c.shard_check.dim, c.shard_check.rounds = 8, 12, 8, 20
    return c


def _small():
    return _base()


def _paper():
    c = _base()
    c.logreg.source = "libsvm"
    c.logreg.dataset = "a9a"
    c.logreg.data_dir = "~/data/libsvm"
    c.logreg.n_clients = 1000
    c.logreg.scale_spread = 1.0
    c.logreg.rounds = 20000
    c.ls.rounds = 6000
    return c


def get_config(arg=None):
    return build_config(arg, {"smoke": _smoke, "small": _small, "paper": _paper})
