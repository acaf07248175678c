"""Evaluates a finished EF21-W workdir: claims table, eval.json and convergence.png.

    python -m papers.ef21_weighted.eval --config=papers/ef21_weighted/configs/default.py:small --workdir=/tmp/ef21_weighted_small
"""
from common import binary
from papers.ef21_weighted import experiment

if __name__ == "__main__":
    binary.main(experiment.evaluate, existing_run=True)
