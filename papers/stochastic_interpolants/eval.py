"""Evaluates a finished papers/stochastic_interpolants workdir: claims table, eval.json, figures.

  python -m papers.stochastic_interpolants.eval --config=papers/stochastic_interpolants/configs/default.py:small --workdir=/tmp/stochastic_interpolants_small
"""
from common import binary
from papers.stochastic_interpolants import experiment

if __name__ == "__main__":
    binary.main(experiment.evaluate, existing_run=True)
