"""Is Model Collapse Inevitable? (Gerstgrasser et al., COLM 2024): replace vs accumulate feedback loops.

Public API:
  linear:     replace_test_error, accumulate_test_error, closed_form, conditional_test_error, run_chain,
              monte_carlo   (Sec. 2, the analytic linear-regression framework)
  density:    fit_gaussian, gaussian_nll, run_chain, monte_carlo   (Gaussian MLE feedback loop, 3 regimes)
  vae:        VAE, negative_elbo, train_generation, sample_images, run_chain   (VAE on digits / MNIST)
  lm:         generate_corpus, corpus_sequences, CharLM, cross_entropy, train_generation, sample, run_chain
  experiment: train_and_evaluate, evaluate
"""
from papers.model_collapse_accumulate.linear import (accumulate_test_error, closed_form, conditional_test_error,
                                                     replace_test_error)
