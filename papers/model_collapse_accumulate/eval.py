"""Computes the claims and the figure of a finished model-collapse run from its checkpoint."""
from common import binary
from papers.model_collapse_accumulate import experiment

if __name__ == "__main__":
    binary.main(experiment.evaluate, existing_run=True)
