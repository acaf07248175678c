"""Evaluates a finished Koopman-limits workdir: metrics, claims (eval.json) and figures."""
from common import binary
from papers.koopman_limits import experiment

if __name__ == "__main__":
    binary.main(experiment.evaluate, existing_run=True)
