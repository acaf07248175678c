"""Policy evaluation and TD learning in continuous time and space: a martingale approach (Jia & Zhou, JMLR 2022).

Public API:
  sde:        Problem, ou_problem, mean_variance_problem, ou_coefficients, make_problem,
              brownian_increments, coarsen, euler_maruyama, simulate
  value:      features (Legendre-in-t x {x^2, 1}, vanishing at T), linear_value, MLP, neural_value, init_mlp
  methods:    martingale loss (ml_solve, online_linear kind='ml' = gradient Monte Carlo), TD(0) / TD(lambda)
              online (online_linear, online_td_pair), LSTD / LSTD(lambda) (lstd_solve), GTD (gtd_solve), MSTDE
              (mstde_solve), path_statistics / batch_statistics, train_neural / train_neural_pair,
              error_statistics, linear_relative_error, neural_relative_error, fit_loglog_slope,
              fit_rate_to_reference
  moments:    MomentSampler (offline statistics accumulated while simulating, all grids from one Brownian motion,
              no paths stored), statistics_from_moments, expected_moments / expected_statistics (exact
              infinite-path statistics of the OU and MV Euler chains, QuadraticSpec / quadratic_spec)
  experiment: train_and_evaluate, evaluate
"""
from papers.martingale_td.methods import (batch_statistics, error_statistics, fit_loglog_slope,
                                          fit_rate_to_reference, gtd_solve,
                                          linear_relative_error, lstd_solve, ml_solve, mstde_solve,
                                          neural_relative_error, online_linear, online_td_pair, path_statistics,
                                          returns_to_go, td_lambda_trace, train_neural, train_neural_pair)
from papers.martingale_td.moments import (MomentSampler, QuadraticSpec, expected_moments, expected_statistics,
                                          quadratic_spec, statistics_from_moments)
from papers.martingale_td.sde import (Problem, brownian_increments, coarsen, euler_maruyama, make_problem,
                                      mean_variance_problem, ou_coefficients, ou_problem, simulate)
from papers.martingale_td.value import MLP, features, linear_value, neural_value, time_basis
