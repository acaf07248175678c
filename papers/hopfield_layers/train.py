"""Trains papers/hopfield_layers: memory experiments, MIL runs (resumable), then evaluates.

  python -m papers.hopfield_layers.train --config=papers/hopfield_layers/configs/default.py:small --workdir=/tmp/hopfield_layers_small
"""
from common import binary
from papers.hopfield_layers import experiment

if __name__ == "__main__":
    binary.main(experiment.train_and_evaluate, check_data=experiment.check_data)
