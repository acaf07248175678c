"""Runs the EF21 / EF21-W study (work units with checkpoints), then evaluates it.

    python -m papers.ef21_weighted.train --config=papers/ef21_weighted/configs/default.py:small --workdir=/tmp/ef21_weighted_small
"""
from common import binary
from papers.ef21_weighted import experiment

if __name__ == "__main__":
    binary.main(experiment.train_and_evaluate, check_data=experiment.check_data)
