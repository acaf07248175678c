"""Trains papers/stochastic_interpolants (b and s for N(0,I) -> GMM and GMM -> GMM; images in the paper
config), then evaluates.

  python -m papers.stochastic_interpolants.train --config=papers/stochastic_interpolants/configs/default.py:small --workdir=/tmp/stochastic_interpolants_small
"""
from common import binary
from papers.stochastic_interpolants import experiment

if __name__ == "__main__":
    binary.main(experiment.train_and_evaluate, check_data=experiment.check_data)
