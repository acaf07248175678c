"""Checks shared by the papers' end-to-end tests (train -> resume -> eval)."""
from __future__ import annotations

import os
from typing import Any, Callable

import jax
import numpy as np


def metrics_lines(workdir: str) -> list[str]:
    """The lines of ``<workdir>/metrics.jsonl``."""
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        return f.readlines()


def assert_rerun_redoes_nothing(run: Callable[[], Any], load_state: Callable[[], tuple[int, Any]],
                                workdir: str):
    """Runs ``run()`` on a finished ``workdir``; checks it wrote no metrics and left the checkpoint as it was.

    ``load_state()`` returns (step, pytree of arrays) of the latest checkpoint. Returns ``run()``'s value.
    """
    lines = metrics_lines(workdir)
    step, before = load_state()
    out = run()
    assert metrics_lines(workdir) == lines, "the rerun wrote metrics: finished work was done again"
    step_again, after = load_state()
    assert step_again == step, f"the rerun moved the checkpoint from step {step} to {step_again}"
    jax.tree.map(np.testing.assert_array_equal, before, after)
    return out
