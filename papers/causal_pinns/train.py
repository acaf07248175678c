"""Trains causal and vanilla PINNs on Allen-Cahn, Lorenz (and KS) window by window (see configs/default.py)."""
from common import binary
from papers.causal_pinns import experiment

if __name__ == "__main__":
    binary.main(experiment.train_and_evaluate)
