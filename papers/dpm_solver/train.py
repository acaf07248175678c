"""Trains the eps-model of DPM-Solver (Lu et al., 2022) and evaluates the samplers (see configs/default.py)."""
from common import binary
from papers.dpm_solver import experiment

if __name__ == "__main__":
    binary.main(experiment.train_and_evaluate, check_data=experiment.check_data)
