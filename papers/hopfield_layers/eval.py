"""Evaluates a finished papers/hopfield_layers workdir: claims table, eval.json and figures.

  python -m papers.hopfield_layers.eval --config=papers/hopfield_layers/configs/default.py:small --workdir=/tmp/hopfield_layers_small
"""
from common import binary
from papers.hopfield_layers import experiment

if __name__ == "__main__":
    binary.main(experiment.evaluate, existing_run=True)
