"""Trains papers/monotone_dbm: claims 1-2 analyses, then the joint completion + classification DBM.

  python -m papers.monotone_dbm.train --config=papers/monotone_dbm/configs/default.py:small --workdir=/tmp/monotone_dbm_small
"""
from common import binary
from papers.monotone_dbm import experiment

if __name__ == "__main__":
    binary.main(experiment.train_and_evaluate, check_data=experiment.check_data)
