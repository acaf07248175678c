"""Monotone deep Boltzmann machines (Feng, Winston, Kolter; TMLR 2023) in JAX.

Public API:
  monotone.Architecture, monotone.init_params, monotone.coupling, monotone.apply_W, monotone.make_coupling,
  monotone.block_diagonal     -- W = S^{1/2}(blkdiag(A^T A) - A^T A)S^{1/2}, hollow, I - W >= m I
  prox.generalized_softmax    -- prox^alpha of -H - ||.||^2/2 on the simplex (softmax at alpha = 1)
  inference.fb_step, inference.anderson, inference.fixed_point (implicit VJP), inference.naive_step
  model.infer, model.loss_fn  -- joint completion + classification with clamped observed pixels
  analysis.uniqueness_experiment, analysis.enumeration_experiment -- claims 1 and 2
"""
from papers.monotone_dbm import analysis, inference, model, monotone, prox  # noqa: F401
from papers.monotone_dbm.inference import anderson, fb_step, fixed_point, naive_step  # noqa: F401
from papers.monotone_dbm.monotone import Architecture, apply_W, coupling, make_coupling  # noqa: F401
from papers.monotone_dbm.prox import generalized_softmax  # noqa: F401
