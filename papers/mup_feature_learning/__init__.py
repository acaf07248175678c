"""Feature Learning in Infinite-Width Neural Networks (Yang & Hu, ICML 2021): abc-parametrisations (SP, NTK,
mean field, μP) of MLPs, the exact μP∞ / NTK∞ / GP∞ limits of linear 1-hidden-layer networks, first-order MAML
and Word2Vec in those limits.

Public API:
  parametrization.AbcMLP, abc_exponents, layer_scales, lr_scale_tree, sgd_update, adam_update
                  abc_arrays, init_abc_mlp, abc_apply (the same network with the factors as traced arrays)
  linear_limits.mup_limit_init, limit_sgd_step, limit_fomaml_step, limit_fewshot_accuracy, empirical_cov,
                nngp_kernel, ntk_kernel, mup_limit_constants, ntk_limit_constants
  fewshot.fomaml_step, fewshot_accuracy, class_pool_tasks, synthetic_tasks
  word2vec.generated_corpus, sgns_loss, analogy_accuracy
"""
from papers.mup_feature_learning.parametrization import (AbcMLP, abc_exponents, adam_update, layer_scales,
                                                         lr_scale_tree, sgd_update)
from papers.mup_feature_learning.linear_limits import (empirical_cov, limit_fewshot_accuracy, limit_fomaml_step,
                                                       limit_sgd_step, mup_limit_constants, mup_limit_init,
                                                       nngp_kernel, ntk_kernel, ntk_limit_constants)
from papers.mup_feature_learning.fewshot import class_pool_tasks, fewshot_accuracy, fomaml_step, synthetic_tasks
