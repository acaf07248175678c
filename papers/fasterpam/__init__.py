"""Fast and Eager k-Medoids Clustering: O(k) Runtime Improvement of the PAM, CLARA, and CLARANS
Algorithms (Schubert & Rousseeuw, Information Systems 2021) in JAX.

Public API: ``fasterpam(diss, k, *, init="lab"|"random"|"build", max_iter, key)``, ``fastclara``,
``fastclarans`` and the baseline ``pam`` (each returns ``KMedoidsResult(medoids, labels, loss, n_iter,
n_swap)``), plus ``pairwise_dissimilarity``, ``build``, ``lab``.
"""
from papers.fasterpam.api import fastclara, fastclarans, fasterpam, pam
from common.kmedoids import KMedoidsResult, build, lab, pairwise_dissimilarity, total_deviation

__all__ = ["fasterpam", "fastclara", "fastclarans", "pam", "build", "lab", "pairwise_dissimilarity",
           "total_deviation", "KMedoidsResult"]
