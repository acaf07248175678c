"""Runs the FasterPAM experiments (PAM, FastPAM1, FasterPAM jax/numpy, FastCLARA(NS), kmedoids) into --workdir, then evaluates."""
from common import binary
from papers.fasterpam import experiment

if __name__ == "__main__":
    binary.main(experiment.train_and_evaluate, check_data=experiment.check_data)
