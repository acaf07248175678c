"""Computes the FastPAM claims and the speedup figure from a finished --workdir (writes eval.json)."""
from common import binary
from papers.fastpam import experiment

if __name__ == "__main__":
    binary.main(experiment.evaluate, existing_run=True)
