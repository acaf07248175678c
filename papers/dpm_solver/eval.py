"""Evaluates DPM-Solver against DDIM / Euler / Euler-Maruyama on a trained workdir (writes eval.json, figures)."""
from common import binary
from papers.dpm_solver import experiment

if __name__ == "__main__":
    binary.main(experiment.evaluate, existing_run=True)
