"""Checks shared by the papers' end-to-end tests (train -> resume -> eval)."""
from __future__ import annotations

import os
import re
from typing import Any, Callable

import jax
import numpy as np

from common.checkpoint import Checkpointer


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


def unit_state(workdir: str, config, make_initial: Callable[[], Any]) -> tuple[int, Any]:
    """(number of finished units, results as numpy) of the latest checkpoint of a work-unit run
    (:func:`common.training.run_units_in`). ``make_initial()`` builds the run's initial state, the restore
    target; it is called with float64 enabled, so float64 results come back as float64."""
    with jax.enable_x64(True), Checkpointer(workdir, config) as ckpt:
        state = ckpt.restore_or(make_initial())
        return int(state.step), jax.tree.map(np.asarray, state.results)


def assert_units_run_once(run: Callable[[], Any], workdir: str, config, make_initial: Callable[[], Any],
                          n_units: int):
    """End-to-end check of a work-unit paper: ``run()`` (train and eval) on a fresh ``workdir`` finishes all
    ``n_units`` units, checkpoints the last one and logs one metrics line per unit; running it again on the
    finished workdir redoes nothing (:func:`assert_rerun_redoes_nothing`). Returns the results."""
    run()
    assert os.path.isdir(os.path.join(workdir, "checkpoints", str(n_units))), "the last unit was not checkpointed"
    step, results = unit_state(workdir, config, make_initial)
    assert step == n_units, f"{step} of {n_units} units finished"
    assert len(metrics_lines(workdir)) == n_units, "expected one metrics line per unit"
    assert_rerun_redoes_nothing(run, lambda: unit_state(workdir, config, make_initial), workdir)
    return results


def assert_refused_before_any_work(fns, get_config: Callable[[str], Any], cases, workdir: str,
                                   error: type = ValueError) -> None:
    """Every ``(config argument, message regex)`` case is refused by every function ``fn(config, workdir)``
    with ``error`` matching the regex, and nothing is written to ``workdir``."""
    for arg, match in cases:
        for fn in fns:
            try:
                fn(get_config(arg), workdir)
            except error as e:
                if not re.search(match, str(e)):
                    raise AssertionError(f"{fn.__name__}({arg!r}): message {str(e)!r} does not match {match!r}")
            else:
                raise AssertionError(f"{fn.__name__} accepted the bad config {arg!r}")
            if os.path.exists(workdir):
                raise AssertionError(f"{fn.__name__}({arg!r}) wrote {workdir} before refusing the config")


def assert_pam_equality_uses_matrix_precision(experiment, config, speed, claim: str = "pam_equals_kmedoids",
                                              n: int = 1797) -> None:
    """The k-medoids exactness claim accepts a float32 rounding difference (6.4e-8 relative) in the loss of
    the same medoids, refuses it for a float64 matrix, and never accepts other medoids."""
    from common import kmedoids_records as records_lib
    records, _ = experiment.plan(config)
    tab = {r: dict(medoids=np.array([7, 3, 5]), loss=1000.0, time=1.0, n_iter=1, n_swap=1) for r in records}
    key = ("rust_pam", 3, 0)
    tab[key] = dict(tab[key], loss=1000.0 * (1 + 6.4e-8))
    for float64, passes in ((False, True), (True, False)):
        claims = experiment.make_claims(config, tab, speed, records_lib.loss_rtol(float64, n))
        assert {c.name: c.passed for c in claims}[claim] is passes, (float64, passes)
    tab[key] = dict(tab[key], medoids=np.array([7, 3, 6]), loss=1000.0)
    claims = experiment.make_claims(config, tab, speed, records_lib.loss_rtol(False, n))
    assert not {c.name: c.passed for c in claims}[claim]
