"""Sinkhorn-Newton-Sparse (Tang et al., ICLR 2024) in JAX: entropic OT by Sinkhorn warm-up + sparse Newton.

Public API:
  solve(cost, a, b, *, eta, method="sns"|"sinkhorn", tol=1e-10, ...) -> SolveResult
      plan, duals (x, y), iteration counts and the l1 marginal-error history; float64 inside.
  solve_batch(costs, a, b, *, eta, ...) -> list[SolveResult]   (one jax.vmap over problems)
  sparsity_trace(cost, a, b, *, eta, steps, k)                  (mass outside the top-k entries of P_t)
"""
from papers.sinkhorn_newton_sparse.solver import SolveResult, solve, solve_batch, sparsity_trace

__all__ = ["SolveResult", "solve", "solve_batch", "sparsity_trace"]
