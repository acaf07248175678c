"""Runs the Learning-to-Relax study (cost tables, Tsallis-INF, ChebCB), resuming unfinished units, then evaluates."""
from common import binary
from papers.learning_to_relax import experiment

if __name__ == "__main__":
    binary.main(experiment.train_and_evaluate)
