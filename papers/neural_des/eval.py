"""Evaluates a finished neural_des workdir: claims table, eval.json and figures.

  python -m papers.neural_des.eval --config=papers/neural_des/configs/default.py:small --workdir=/tmp/neural_des_small
"""
from common import binary
from papers.neural_des import experiment

if __name__ == "__main__":
    binary.main(experiment.evaluate, existing_run=True)
