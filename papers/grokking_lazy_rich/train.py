"""Trains the lazy-to-rich grokking study (all alpha / eps runs, digits variant) with checkpoints, then evaluates.

    python -m papers.grokking_lazy_rich.train --config=papers/grokking_lazy_rich/configs/default.py:small --workdir=/tmp/grokking_lazy_rich_small
"""
from common import binary
from papers.grokking_lazy_rich import experiment

if __name__ == "__main__":
    binary.main(experiment.train_and_evaluate, check_data=experiment.check_data)
