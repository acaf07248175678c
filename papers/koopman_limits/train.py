"""Runs the Koopman-limits study (Duffing, rotation, adversarial torus maps, Lorenz), resuming unfinished units, then evaluates."""
from common import binary
from papers.koopman_limits import experiment

if __name__ == "__main__":
    binary.main(experiment.train_and_evaluate)
