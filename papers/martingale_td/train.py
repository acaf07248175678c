"""Runs the martingale policy-evaluation study (work units with checkpoints), then evaluates it.

    python -m papers.martingale_td.train --config=papers/martingale_td/configs/default.py:small --workdir=/tmp/martingale_td_small
"""
from common import binary
from papers.martingale_td import experiment

if __name__ == "__main__":
    binary.main(experiment.train_and_evaluate)
