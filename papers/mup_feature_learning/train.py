"""Runs the μP / feature-learning experiments (feature movement, LR transfer, MAML limits, Word2Vec), resuming unfinished units, then evaluates."""
from common import binary
from papers.mup_feature_learning import experiment

if __name__ == "__main__":
    binary.main(experiment.train_and_evaluate, check_data=experiment.check_data)
