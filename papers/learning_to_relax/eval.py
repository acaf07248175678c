"""Computes the Learning-to-Relax claims and figures from a finished workdir."""
from common import binary
from papers.learning_to_relax import experiment

if __name__ == "__main__":
    binary.main(experiment.evaluate, existing_run=True)
