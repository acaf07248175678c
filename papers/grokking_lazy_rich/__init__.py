"""Grokking as the Transition from Lazy to Rich Training Dynamics (Kumar, Bordelon, Gershman, Pehlevan, ICLR 2024).

Public API:
  model:      phi, make_task, init_weights, network, centred_network, centred_loss, learning_rate, gd_step,
              sufficient_statistics, loss_components, closed_form_test_loss, ntk, kernel_alignment,
              reduced_moments, reduced_statistics, reduced_gd_step, quadratic_predict, weights_from_reduced
              (exact GD in the reduced coordinates W = W0 A + 1 b^T)
  kernel:     kernel_eigh, linearised_coefficients, linearised_train_loss, linearised_test_loss,
              predictor_statistics, predict (linearised model / K0 kernel regression)
  digits:     load_split, init_params, forward, centred_loss, accuracy, gd_step (MNIST-style variant)
  experiment: train_and_evaluate, evaluate, alignment_targets (Fig. 5 label intervention), curve_shape (test loss
              at the train fit, delay ratios at several thresholds)
"""
from papers.grokking_lazy_rich.kernel import (kernel_eigh, linearised_coefficients, linearised_test_loss,
                                              linearised_train_loss, predict, predictor_statistics)
from papers.grokking_lazy_rich.model import (centred_loss, centred_network, closed_form_test_loss, gd_step,
                                             init_weights, kernel_alignment, learning_rate, loss_components,
                                             make_task, network, ntk, phi, quadratic_predict, reduced_gd_step,
                                             reduced_moments, reduced_statistics, sufficient_statistics,
                                             weights_from_reduced)
