"""Causal training of physics-informed neural networks (Wang, Sankaran & Perdikaris, CMAME 2024).

Public API:
  causal_weights, causal_residual_loss, vanilla_residual_loss, anneal_epsilon, converged, window_finished,
  time_windows
  periodic_embedding, init_mlp, apply_mlp                                  (networks, modified MLP option)
  ALLEN_CAHN, KURAMOTO_SIVASHINSKY, pde_reference, lorenz_reference, pde_residual, lorenz_slice_losses
The causal training algorithm is patented by the University of Pennsylvania (see README): non-commercial use.
"""
from papers.causal_pinns.causal import (anneal_epsilon, causal_residual_loss, causal_weights, converged,
                                        relative_l2, time_windows, vanilla_residual_loss, window_finished)
from papers.causal_pinns.networks import apply_mlp, init_mlp, periodic_embedding
from papers.causal_pinns.problems import (ALLEN_CAHN, KURAMOTO_SIVASHINSKY, lorenz_reference, lorenz_slice_losses,
                                          pde_reference, pde_residual)

__all__ = ["anneal_epsilon", "causal_residual_loss", "causal_weights", "converged", "relative_l2", "time_windows",
           "vanilla_residual_loss", "window_finished", "apply_mlp", "init_mlp", "periodic_embedding", "ALLEN_CAHN",
           "KURAMOTO_SIVASHINSKY", "lorenz_reference", "lorenz_slice_losses", "pde_reference", "pde_residual"]
