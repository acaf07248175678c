"""Computes the FasterPAM claims and figure from a finished --workdir (writes eval.json)."""
from common import binary
from papers.fasterpam import experiment

if __name__ == "__main__":
    binary.main(experiment.evaluate, existing_run=True)
