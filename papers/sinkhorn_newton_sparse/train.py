"""Trains (runs) the Sinkhorn-Newton-Sparse experiments: resumable work units, then the eval.

  python -m papers.sinkhorn_newton_sparse.train --config=papers/sinkhorn_newton_sparse/configs/default.py:small --workdir=/tmp/sinkhorn_newton_sparse_small
"""
from common import binary
from papers.sinkhorn_newton_sparse import experiment

if __name__ == "__main__":
    binary.main(experiment.train_and_evaluate, check_data=experiment.check_data)
