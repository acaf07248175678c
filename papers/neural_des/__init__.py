"""On Neural Differential Equations (Kidger, DPhil thesis, Oxford 2021; arXiv 2202.02435) in JAX.

Public API:
  reversible_heun, reversible_heun_scan      reversible Heun (ODE/SDE/CDE) with exact backward / plain DTO
  backsolve_gradient, state_rms_seminorm,    continuous adjoint with adaptive steps, seminorm vs full norm
  full_rms_norm
  neural_ode_solve, ncde_logits, gru_logits  neural ODE (augmented option), neural CDE, GRU baseline
  generator_paths, discriminator_score       neural SDE generator and neural CDE critic of the SDE-GAN
  irregular_spirals, time_dependent_ou       data of claims 3 and 4
"""
from papers.neural_des.adjoint import backsolve_gradient, full_rms_norm, state_rms_seminorm
from papers.neural_des.data import DataNotFoundError, irregular_spirals, time_dependent_ou
from papers.neural_des.models import (discriminator_score, generator_paths, gru_logits, ncde_logits,
                                      neural_ode_solve)
from papers.neural_des.reversible import reversible_heun, reversible_heun_scan

__all__ = ["backsolve_gradient", "full_rms_norm", "state_rms_seminorm", "DataNotFoundError",
           "irregular_spirals", "time_dependent_ou", "discriminator_score", "generator_paths", "gru_logits",
           "ncde_logits", "neural_ode_solve", "reversible_heun", "reversible_heun_scan"]
