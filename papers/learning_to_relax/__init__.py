"""Learning to Relax (Khodak, Chow, Balcan, Talwalkar, ICLR 2024): online tuning of the SOR parameter.

Public API:
  instances:  sample_shifts, sample_rhs, omega_grid, young_omegas, iteration_counts, cost_table
  heat:       simulate (the heat-equation sequence of systems), diffusion_coefficient, context_interval
  fast_sor:   sor_iterations (batched SOR iteration counts on the shifted grid Laplacian; what the experiment uses)
  learners:   tsallis_inf_probs, run_tsallis_inf, chebyshev_features, ChebCB, run_chebcb
  experiment: train_and_evaluate, evaluate, check_config
The general sparse solvers (SOR and SSOR-PCG on ELL matrices, the wavefront SOR / SSOR-PCG of the shifted
2-D Laplacian that fast_sor is tested against) and Young's formulas are in common/linear_solvers.py.
"""
from papers.learning_to_relax.instances import (cost_table, iteration_counts, omega_grid, sample_rhs,
                                                sample_shifts, young_omegas)
from papers.learning_to_relax.learners import (ChebCB, chebyshev_features, run_chebcb, run_tsallis_inf,
                                               tsallis_inf_probs)
