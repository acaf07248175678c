"""Evaluates papers/monotone_dbm on a finished workdir: claims table, eval.json, completions.png.

  python -m papers.monotone_dbm.eval --config=papers/monotone_dbm/configs/default.py:small --workdir=/tmp/monotone_dbm_small
"""
from common import binary
from papers.monotone_dbm import experiment

if __name__ == "__main__":
    binary.main(experiment.evaluate, existing_run=True)
