"""Trains (runs the work units of) the On Neural Differential Equations reproduction, then evaluates.

  python -m papers.neural_des.train --config=papers/neural_des/configs/default.py:small --workdir=/tmp/neural_des_small
"""
from common import binary
from papers.neural_des import experiment

if __name__ == "__main__":
    binary.main(experiment.train_and_evaluate, check_data=experiment.check_data)
