"""Computes the claims and figures of a finished μP / feature-learning run from its checkpoint."""
from common import binary
from papers.mup_feature_learning import experiment

if __name__ == "__main__":
    binary.main(experiment.evaluate, existing_run=True)
