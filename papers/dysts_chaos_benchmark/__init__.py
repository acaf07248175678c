"""Reproduction of Gilpin, "Chaos as an interpretable benchmark for forecasting and data-driven
modelling" (NeurIPS 2021 Datasets & Benchmarks). The system database lives in common.chaotic_systems.

Public API: invariants (lyapunov_spectra, lyapunov_estimates, lyapunov_convergence, kaplan_yorke_dimension,
correlation_dimension, sample_entropy, multiscale_entropy), forecasters (naive, ridge_ar, esn, nvar, nbeats,
transformer, smape, valid_prediction_time), experiment (train_and_evaluate, evaluate).
"""
from papers.dysts_chaos_benchmark.forecasters import (esn, naive, nbeats, nvar, ridge_ar, smape, transformer,
                                                       valid_prediction_time)
from papers.dysts_chaos_benchmark.invariants import (correlation_dimension, kaplan_yorke_dimension,
                                                      lyapunov_convergence, lyapunov_estimates, lyapunov_spectra,
                                                      multiscale_entropy, sample_entropy)
