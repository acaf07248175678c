"""Pool bookkeeping of the shared feedback loop and its non-finite checks."""
import numpy as np
import pytest

from common.training import NonFiniteError
from papers.model_collapse_accumulate import feedback


def _run(regime, n_generations=3, scores=None):
    """Runs the loop with synthetic data = generation index + 1 and records the live pool of every fit."""
    real, seen = np.zeros((2, 3), np.float32), []

    def fit_and_score(g, pool, count):
        seen.append(np.asarray(pool)[:int(count)])
        return g, (scores[g] if scores else float(count))

    out = feedback.run_chain(real, n_generations, regime, fit_and_score, lambda g, params: np.full((2, 3), params + 1.0))
    return out, seen


def test_replace_keeps_only_the_last_samples_accumulate_keeps_everything():
    out, seen = _run("replace")
    assert out == [2.0, 2.0, 2.0]
    assert [s[:, 0].tolist() for s in seen] == [[0, 0], [1, 1], [2, 2]]
    out, seen = _run("accumulate")
    assert out == [2.0, 4.0, 6.0]
    assert [s[:, 0].tolist() for s in seen] == [[0, 0], [0, 0, 1, 1], [0, 0, 1, 1, 2, 2]]


def test_non_finite_scores_and_training_losses_raise_naming_the_generation():
    with pytest.raises(NonFiniteError, match="generation 2"):
        _run("accumulate", scores=[1.0, float("nan"), 1.0])
    with pytest.raises(NonFiniteError, match="step 3 of generation 2"):
        feedback.check_training("vae/replace", 1, np.array([1.0, 2.0, np.nan, 1.0]), np.ones(4))
    with pytest.raises(NonFiniteError, match="step 2 of generation 1"):
        feedback.check_training("lm/replace", 0, np.ones(3), np.array([1.0, np.inf, 1.0]))
    feedback.check_training("lm/replace", 0, np.ones(3), np.ones(3))
    with pytest.raises(ValueError):
        _run("mix")
