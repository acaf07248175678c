"""Runs the dysts chaos benchmark: invariants of every system, then every forecaster on every system.

  python -m papers.dysts_chaos_benchmark.train --config=papers/dysts_chaos_benchmark/configs/default.py:small --workdir=/tmp/dysts_chaos_benchmark_small
"""
from common import binary
from papers.dysts_chaos_benchmark import experiment

if __name__ == "__main__":
    binary.main(experiment.train_and_evaluate)
