"""Evaluates a finished dysts chaos-benchmark workdir: claims, eval.json, benchmark_summary.png.

  python -m papers.dysts_chaos_benchmark.eval --config=papers/dysts_chaos_benchmark/configs/default.py:small --workdir=/tmp/dysts_chaos_benchmark_small
"""
from common import binary
from papers.dysts_chaos_benchmark import experiment

if __name__ == "__main__":
    binary.main(experiment.evaluate, existing_run=True)
