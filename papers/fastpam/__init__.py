"""Faster k-Medoids Clustering: Improving the PAM, CLARA, and CLARANS Algorithms
(Schubert & Rousseeuw, SISAP 2019) in JAX.

Public API: ``pam``, ``fastpam1``, ``fastpam2``, ``clara``, ``clarans`` (each returns a
``KMedoidsResult(medoids, labels, loss, n_iter, n_swap)``), the initialisations ``build`` and ``lab``,
and ``pairwise_dissimilarity``.
"""
from papers.fastpam.api import clara, clarans, fastpam1, fastpam2, pam
from common.kmedoids import KMedoidsResult, build, lab, pairwise_dissimilarity, total_deviation

__all__ = ["pam", "fastpam1", "fastpam2", "clara", "clarans", "build", "lab", "pairwise_dissimilarity",
           "total_deviation", "KMedoidsResult"]
