"""Is Model Collapse Inevitable? (Gerstgrasser et al., COLM 2024): replace vs accumulate feedback loops.

Public API:
  linear:     replace_test_error, accumulate_test_error, closed_form, conditional_test_error, run_chain,
              monte_carlo   (Sec. 2, the analytic linear-regression framework)
  density:    fit_gaussian, gaussian_nll, run_chain, monte_carlo   (Gaussian MLE feedback loop, 3 regimes)
  vae:        VAE, gaussian_kl, negative_elbo, grey_level_entropy, train_generation, sample_images, run_chain
              (VAE on digits / MNIST)
  lm:         generate_corpus, corpus_sequences, text_sequences, CharLM, cross_entropy, train_generation, sample,
              heldout_cross_entropy, run_chain
  feedback:   run_chain, check_training   (the replace / accumulate pool loop of the VAE and the LM)
  experiment: check_config, train_and_evaluate, evaluate
"""
from papers.model_collapse_accumulate.linear import (accumulate_test_error, closed_form, conditional_test_error,
                                                     replace_test_error)
