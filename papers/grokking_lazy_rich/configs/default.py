"""Configs of the lazy-to-rich grokking reproduction: ``get_config("smoke" | "small" | "paper")``.

Commands (from the repo root):
  .venv/bin/python -m papers.grokking_lazy_rich.train --config=papers/grokking_lazy_rich/configs/default.py:small --workdir=/tmp/grokking_lazy_rich_small
  .venv/bin/python -m papers.grokking_lazy_rich.eval  --config=papers/grokking_lazy_rich/configs/default.py:small --workdir=/tmp/grokking_lazy_rich_small

smoke: D=8, P=24, N=16, 120 GD steps; seconds; used by the end-to-end test (claims computed, not expected
       to pass).
small: D=50, P=300, N=500, eps=0.25, eta0=2, 16000 full-batch GD steps (exact reduced dynamics) for alpha in
       {2^-5, ..., 2^4, 64}, plus the alignment intervention at alpha=2 (labels moved from the quadratic teacher
       onto the top eigenvector of the initial NTK, mixes 0/0.5/0.8/1) and the digits variant.
       Expected: t_te/t_tr <= 2 at the smallest alpha, >= 10 at a large alpha; plateau of the laziest run = K0
       regression MSE within 10%; closed form = Monte Carlo; top-eigenvector labels remove the delay.
       Measured: see README (runtime on the shared 2-core CPU is given there).
paper: D=100, P=450, N=500, eps=0.25, eta0=2, 60000 steps, alpha in 2^-5..2^6 (the paper's Fig. 3a sizes),
       alignment runs at alpha=2, digits variant on MNIST (``digits.source='mnist'``, needs ``digits.data_dir``).
"""
import ml_collections

from common.config import build_config


def _base() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.dim = 50                      # D
    c.n_train = 300                 # P
    c.width = 500                   # N (free: the reduced GD dynamics cost O(P D^2), not O(P N D))
    c.eps = 0.25                    # phi(h) = h + eps h^2 / 2 (the paper's Fig. 3a / Fig. 5 value)
    c.target_scale = 0.5            # y = target_scale (beta . x)^2
    c.eta0 = 2.0                    # eta = eta0 N / alpha^2
    c.alphas = tuple(2.0**k for k in range(-5, 5)) + (64.0,)   # the paper's 2^k grid; 64 = lazy reference
    c.align_alpha = 2.0             # claim 4: alignment intervention at this alpha
    c.align_mix = (0.0, 0.5, 0.8, 1.0)  # labels sqrt(1-g^2) teacher + g top-NTK-eigenvector (g=1: Fig. 5 labels)
    c.threshold = 0.1               # t_tr / t_te: first step with loss < threshold * initial loss
    c.plateau_threshold = 0.01      # plateau: test loss when train loss first < this * initial
    c.steps = 16000
    c.log_every = 50                # GD steps per jitted chunk (one metrics record, one curve point)
    c.checkpoint_every = 40         # chunks
    c.align_points = 100            # training points used for the NTK-label alignment curve
    c.n_monte_carlo = 40000         # fresh test points for the closed-form vs Monte-Carlo check

    c.digits = ml_collections.ConfigDict()
    c.digits.source = "digits"      # 'digits' (offline sklearn) or 'mnist' (needs data_dir)
    c.digits.data_dir = ""
    c.digits.n_train = 500
    c.digits.width = 256
    c.digits.eta0 = 0.5
    c.digits.alphas = (0.0625, 1.0, 16.0)
    c.digits.steps_per_chunk = 4    # digits GD steps per chunk of the polynomial runs
    return c


def _smoke():
    c = _base()
    c.dim, c.n_train, c.width = 8, 24, 16
    c.alphas = (0.25, 1.0, 4.0)
    c.align_alpha = 1.0
    c.align_mix = (0.0, 1.0)
    c.steps, c.log_every, c.checkpoint_every = 120, 10, 4
    c.align_points = 24
    c.n_monte_carlo = 2000
    c.digits.n_train, c.digits.width, c.digits.alphas, c.digits.steps_per_chunk = 100, 16, (0.25, 4.0), 2
    return c


def _small():
    return _base()


def _paper():
    c = _base()
    c.dim, c.n_train, c.width = 100, 450, 500
    c.alphas = tuple(2.0**k for k in range(-5, 7))
    c.steps = 60000
    c.log_every = 200
    c.checkpoint_every = 25
    c.align_points = 450
    c.n_monte_carlo = 200000
    c.digits.source = "mnist"
    c.digits.data_dir = "~/data/mnist"
    c.digits.n_train = 1000
    c.digits.width = 500
    c.digits.steps_per_chunk = 6
    return c


def get_config(arg=None):
    return build_config(arg, {"smoke": _smoke, "small": _small, "paper": _paper})
