"""Evaluates a finished Sinkhorn-Newton-Sparse workdir: claims, figures, eval.json.

  python -m papers.sinkhorn_newton_sparse.eval --config=papers/sinkhorn_newton_sparse/configs/default.py:small --workdir=/tmp/sinkhorn_newton_sparse_small
"""
from common import binary
from papers.sinkhorn_newton_sparse import experiment

if __name__ == "__main__":
    binary.main(experiment.evaluate, existing_run=True)
