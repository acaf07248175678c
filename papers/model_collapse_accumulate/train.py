"""Checks the config and data, runs the replace / accumulate feedback loops (linear regression, Gaussian MLE, VAE,
character LM), resuming unfinished units, then evaluates."""
from common import binary
from papers.model_collapse_accumulate import experiment

if __name__ == "__main__":
    binary.main(experiment.train_and_evaluate, check_data=experiment.check_data)
