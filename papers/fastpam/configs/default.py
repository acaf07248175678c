"""Configs of the FastPAM reproduction (Schubert & Rousseeuw, SISAP 2019).

smoke:  python -m papers.fastpam.train --config=papers/fastpam/configs/default.py:smoke --workdir=/tmp/fastpam_smoke
        60 digits, k = 3, 1 seed: seconds on one CPU core (used by the tests).
small:  python -m papers.fastpam.train --config=papers/fastpam/configs/default.py:small --workdir=/tmp/fastpam_small
        python -m papers.fastpam.eval  --config=papers/fastpam/configs/default.py:small --workdir=/tmp/fastpam_small
        sklearn digits (n = 1797, Euclidean, float64), k in {2, 5, 10, 20, 50}, 5 timing repeats,
        5 seeds for LAB / CLARA / CLARANS at k in {10, 20}. Expected: FastPAM1 = PAM = kmedoids.pam exactly;
        FastPAM2+LAB within 1% of PAM; FastCLARA/FastCLARANS at most CLARA/CLARANS loss; FastPAM1/PAM SWAP
        speedup growing with k, measured with both as scalar loops (numba), SWAP phase only: 1.9x at k = 2
        (1.75-2.7 over 20 repeats), 34x at k = 50; the JAX pair 0.67-0.80x and 5.9-6.4x, reported alongside.
        Measured: `make reproduce` 1 min 27 s - 2 min 05 s wall on a shared 2-core CPU (load average 1-2),
        3 min 54 s at load 3-4.6, 2026-11-28; 8/8 claims.
paper:  MNIST training images (n = 10000 of 60000, Euclidean, float32), k up to 200, the paper's scale of
        the k sweep; needs data_dir with the four MNIST IDX files. Not run here (hours on a 2-core CPU).
        The scalar-loop PAM costs about k n^2 x 1.3 ns per SWAP iteration (measured 0.42 s at k = 100,
        n = 1797), i.e. ~30 s per iteration at k = 200, n = 10 000: plan hours for its timing repeats.
"""
import ml_collections

from common.config import build_config


def _base() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.data = "digits"          # digits | blobs | mnist
    c.data_dir = ""            # MNIST IDX directory (paper variant)
    c.n = 0                    # 0: the whole data set
    c.metric = "euclidean"
    c.float64 = True           # exactness claims compare in float64
    c.ks = (2, 5, 10, 20, 50)  # k sweep for PAM vs FastPAM1 (claims 1, 2, 4)
    c.exact_ks = (10, 20)      # claim 1: identical medoids and loss
    c.quality_ks = (10, 20)    # FastPAM2+LAB, CLARA, CLARANS over seeds
    c.n_seeds = 5
    c.repeats = 5              # timing repeats (medians), PAM and FastPAM1 interleaved
    c.max_iter = 100
    c.clara_samples = 5
    c.clarans_local = 2
    c.checkpoint_every = 1     # work units between checkpoints
    c.log_every = 1
    return c


def _smoke():
    c = _base()
    c.n = 60
    c.ks = (3,)
    c.exact_ks = (3,)
    c.quality_ks = (3,)
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
    c.ks = (2, 5, 10, 20, 50, 100, 200)
    c.exact_ks = (10, 20, 50)
    c.quality_ks = (10, 50, 100)
    c.n_seeds = 10
    c.repeats = 5
    return c


def get_config(arg=None):
    return build_config(arg, {"smoke": _smoke, "small": _small, "paper": _paper})
