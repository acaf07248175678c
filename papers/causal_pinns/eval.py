"""Evaluates a finished causal_pinns workdir: errors vs the references, claims, figures (eval.json, *.png)."""
from common import binary
from papers.causal_pinns import experiment

if __name__ == "__main__":
    binary.main(experiment.evaluate, existing_run=True)
