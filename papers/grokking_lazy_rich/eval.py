"""Evaluates a finished grokking_lazy_rich workdir: claims table, eval.json, grokking_phase.png, digits.png.

    python -m papers.grokking_lazy_rich.eval --config=papers/grokking_lazy_rich/configs/default.py:small --workdir=/tmp/grokking_lazy_rich_small
"""
from common import binary
from papers.grokking_lazy_rich import experiment

if __name__ == "__main__":
    binary.main(experiment.evaluate, existing_run=True)
