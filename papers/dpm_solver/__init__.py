"""DPM-Solver (Lu et al., NeurIPS 2022) in JAX: fast exponential-integrator ODE solvers for diffusion models.

Public API:
  sample(noise_pred_fn, x_T, schedule, *, nfe, order, method, ...) -> (x_0, nfe_used)
  ContinuousLinear, ContinuousCosine, Discrete, discrete_linear, discrete_cosine, make_schedule  (schedules)
  dpm_solver_1_update / _2_update / _3_update, dpm_solver_adaptive, check_adaptive_finished, fast_orders,
  time_steps
  euler_ode, euler_maruyama, reference_ode  (baselines)
"""
from papers.dpm_solver.baselines import euler_maruyama, euler_ode, reference_ode
from papers.dpm_solver.schedules import (ContinuousCosine, ContinuousLinear, Discrete, VPSchedule, discrete_cosine,
                                         discrete_linear, make_schedule)
from papers.dpm_solver.solvers import (check_adaptive_finished, dpm_solver_1_update, dpm_solver_2_update,
                                       dpm_solver_3_update, dpm_solver_adaptive, fast_orders, integrate_grid, sample,
                                       time_steps)

__all__ = ["sample", "VPSchedule", "ContinuousLinear", "ContinuousCosine", "Discrete", "discrete_linear",
           "discrete_cosine", "make_schedule", "dpm_solver_1_update", "dpm_solver_2_update", "dpm_solver_3_update",
           "dpm_solver_adaptive", "check_adaptive_finished", "fast_orders", "integrate_grid", "time_steps",
           "euler_ode", "euler_maruyama", "reference_ode"]
