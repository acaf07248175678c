"""Error Feedback Reloaded (Richtarik, Gasanov, Burlachenko, ICLR 2024): EF21 and EF21-W in JAX.

Public API:
  compressors: top_k, rand_k, contraction_alpha, bits_per_message
  theory:      theta_beta, xi, l_am, l_qm, stepsize_old (L_QM), stepsize_new (L_AM), stepsize_ratio,
               ef21w_weights, participation_alpha, rate_bound
  problems:    make_least_squares, make_digits_logistic, make_libsvm_logistic, client_grad, client_loss
  ef21:        EF21Runner (clients sharded over a ('clients',) mesh with jax.shard_map),
               make_client_mesh, method_coefficients, rounds_to_tolerance
  experiment:  train_and_evaluate, evaluate
"""
from papers.ef21_weighted.compressors import bits_per_message, contraction_alpha, rand_k, top_k
from papers.ef21_weighted.ef21 import EF21Runner, make_client_mesh, method_coefficients, rounds_to_tolerance
from papers.ef21_weighted.problems import (client_grad, client_loss, make_digits_logistic, make_least_squares,
                                           make_libsvm_logistic)
from papers.ef21_weighted.theory import (ef21w_weights, l_am, l_qm, participation_alpha, rate_bound,
                                         stepsize_new, stepsize_old, stepsize_ratio, theta_beta, xi)
