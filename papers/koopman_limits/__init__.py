"""Limits and Powers of Koopman Learning (Colbrook, Mezic, Stepanenko; arXiv 2407.06312, v2 retitled
"Adversarial dynamical systems characterize when data-driven learning succeeds or fails").

Public API:
  resdmd:  rbf_dictionary, kmeans_centers, fourier_dictionary_1d, fourier_dictionary_2d, polynomial_dictionary,
           fit, edmd, koopman_matrix, pair_residuals, heldout_pair_residuals, residual, pseudospectrum,
           polar_grid, rect_grid, grid_local_minima, ball_minima, verified_spectrum, eigenfunction_values,
           eigenfunction_error
  systems: duffing_snapshots, lorenz_snapshots, rotation_snapshots, adversarial_map, adversarial_eigenfunction, ...
  experiment: train_and_evaluate, evaluate
"""
from papers.koopman_limits.resdmd import (ResDMD, ball_minima, edmd, eigenfunction_error, eigenfunction_values,
                                          fit, fourier_dictionary_1d, fourier_dictionary_2d, grid_local_minima,
                                          heldout_pair_residuals, kmeans_centers, koopman_matrix, pair_residuals,
                                          polar_grid, polynomial_dictionary, pseudospectrum, rbf_dictionary,
                                          rect_grid, residual, verified_spectrum)
