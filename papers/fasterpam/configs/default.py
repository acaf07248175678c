"""Configs of the FasterPAM reproduction (Schubert & Rousseeuw, Information Systems 2021).

smoke:  python -m papers.fasterpam.train --config=papers/fasterpam/configs/default.py:smoke --workdir=/tmp/fasterpam_smoke
        60 digits, k = 3, 1 seed: seconds on one CPU core (used by the tests).
small:  python -m papers.fasterpam.train --config=papers/fasterpam/configs/default.py:small --workdir=/tmp/fasterpam_small
        python -m papers.fasterpam.eval  --config=papers/fasterpam/configs/default.py:small --workdir=/tmp/fasterpam_small
        sklearn digits (n = 1797, Euclidean, float64): PAM vs FastPAM1 at k in {10, 20, 100}; FasterPAM
        (LAB init, 5 seeds) at k in {10, 100} against PAM and the kmedoids package. Expected: FastPAM1 = PAM =
        kmedoids.pam; FasterPAM within 1% of PAM and identical to kmedoids.fasterpam from the same start;
        SWAP speedup over PAM >= 50x at k = 100 with both as scalar loops (numba), SWAP phase only: 247-248x
        (PAM 6.5-6.7 s, FasterPAM 0.026-0.027 s; 153x with FasterPAM's 0.042 s from the eager units of the
        same run, see README; 124-236x in three earlier runs that also timed the input check); the
        JAX pair 8.4-10.2x (8-23x across all runs), reported alongside. PAM and FasterPAM timed interleaved,
        5 repeats x 5 seeds. Measured: `make reproduce` 1 min 59 s - 2 min 43 s wall on a shared 2-core CPU
        (load average 1.0-1.9), 2026-11-28.
paper:  MNIST training images (n = 10000, float32, Euclidean), k up to 200; needs data_dir with the MNIST
        IDX files. Not run here.
        The scalar-loop PAM costs about k n^2 x 1.3 ns per SWAP iteration (measured 0.42 s at k = 100,
        n = 1797), i.e. ~30 s per iteration at k = 200, n = 10 000: plan hours for its timing repeats.
"""
import ml_collections

from common.config import build_config


def _base() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.data = "digits"           # digits | blobs | mnist
    c.data_dir = ""
    c.n = 0
    c.metric = "euclidean"
    c.float64 = True
    c.ks = (10, 20, 100)        # PAM vs FastPAM1 (and the PAM baseline for FasterPAM)
    c.exact_ks = (10, 20)       # FastPAM1 == PAM
    c.eager_ks = (10, 100)      # FasterPAM over seeds
    c.speed_k = 100             # the SWAP speedup claim
    c.n_seeds = 5
    c.repeats = 5               # timing repeats (medians); PAM and the fast method interleaved
    c.max_iter = 100
    c.clara_samples = 5
    c.clarans_local = 2
    c.checkpoint_every = 1
    c.log_every = 1
    return c


def _smoke():
    c = _base()
    c.n = 60
    c.ks = (3,)
    c.exact_ks = (3,)
    c.eager_ks = (3,)
    c.speed_k = 3
    c.n_seeds = 1
    c.repeats = 1
    c.clara_samples = 2
    c.clarans_local = 1
    return c


def _small():
    return _base()


def _paper():
    c = _base()
    c.data = "mnist"
    c.data_dir = "data/mnist"
    c.n = 10000
    c.float64 = False
    c.ks = (10, 20, 100, 200)
    c.exact_ks = (10, 20)
    c.eager_ks = (10, 100, 200)
    c.speed_k = 200
    c.n_seeds = 10
    c.repeats = 5
    return c


def get_config(arg=None):
    return build_config(arg, {"smoke": _smoke, "small": _small, "paper": _paper})
