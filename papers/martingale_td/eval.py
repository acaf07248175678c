"""Evaluates a finished martingale_td workdir: claims table, eval.json, convergence.png, value_functions.png.

    python -m papers.martingale_td.eval --config=papers/martingale_td/configs/default.py:small --workdir=/tmp/martingale_td_small
"""
from common import binary
from papers.martingale_td import experiment

if __name__ == "__main__":
    binary.main(experiment.evaluate, existing_run=True)
