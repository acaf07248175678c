"""Runs the FastPAM experiments (PAM, FastPAM1, FastPAM2, CLARA, CLARANS, kmedoids) into --workdir, then evaluates."""
from common import binary
from papers.fastpam import experiment

if __name__ == "__main__":
    binary.main(experiment.train_and_evaluate, check_data=experiment.check_data)
