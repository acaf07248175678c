"""k-medoids SWAP phases written as scalar loops, in the code style of the papers' implementations.

The runtime claims of FastPAM (Schubert & Rousseeuw, SISAP 2019) and FasterPAM (Inf. Syst. 2021) compare
implementations written as plain loops over (candidate, medoid, point), compiled ahead of time (ELKI in
Java, the authors' ``kmedoids`` package in Rust). This module writes PAM, FastPAM1 and FasterPAM the same
way, compiled with numba, so that their ratio measures what the papers measure: the operation counts of
the algorithms. The array-code (JAX) versions in :mod:`common.kmedoids_swap` and
``papers.fasterpam.eager`` vectorise over candidates instead, which changes the constant factors (PAM
vectorises better than FastPAM1's data-dependent row update); the READMEs report both.

All three follow the tie rules of the JAX versions (a medoid is its own nearest medoid, ties go to the
lowest medoid slot; the best swap is the first minimum in candidate-major order) and return the same
medoids, iterations and swaps (tests). ``diss`` must be a symmetric [n, n] float array with zero
diagonal: row c is read for the distances d(x_o, x_c) of candidate c. Every entry point checks this
(O(n^2)) unless called with ``check=False``; timings of the SWAP phase check once, outside the clock.

Per SWAP iteration (n points, k medoids):
- :func:`pam_swap`: Algorithm 1 (SWAP) of the FastPAM paper, the case analysis of Kaufman & Rousseeuw
  for every (medoid, candidate) pair, O(k (n - k) n).
- :func:`fastpam1_swap`: Algorithm 2, one O(n) pass per candidate gives the deltas of all k medoids
  (the removal term of the nearest medoid n(o) per point, and an O(k) update in the rare case that the
  candidate is closer than n(o)), O((n - k) n) plus the rare O(k) updates.
- :func:`fasterpam_swap`: Algorithm 3 of the journal version, eager swaps with the removal loss, O(n + k)
  per candidate visited.
"""
from __future__ import annotations

import numpy as np

from common.kmedoids import check_dissimilarity

try:
    import numba
except ImportError as e:  # pragma: no cover - numba is pinned in requirements.txt
    raise ImportError("common.kmedoids_loops needs numba (pinned in requirements.txt): "
                      "run `make venv` or `pip install -r requirements.txt`") from e

_jit = numba.njit(cache=True, nogil=True)   # compiled once per machine (cached in __pycache__)


@_jit
def _nearest_two_of(diss, o, medoids):
    """(nearest slot, second slot, d_n, d_s) of point o; a medoid is its own nearest, ties -> lowest slot."""
    k = medoids.shape[0]
    best = -1
    for i in range(k):
        if medoids[i] == o:
            best = i
            break
    if best < 0:
        for i in range(k):
            if best < 0 or diss[o, medoids[i]] < diss[o, medoids[best]]:
                best = i
    sec = -1
    for i in range(k):
        if i != best and (sec < 0 or diss[o, medoids[i]] < diss[o, medoids[sec]]):
            sec = i
    if sec < 0:          # k == 1: no second medoid
        return best, k - 1, diss[o, medoids[best]], np.inf
    return best, sec, diss[o, medoids[best]], diss[o, medoids[sec]]


@_jit
def _new_caches(diss, medoids):
    """(nearest, second, d_n, d_s) of every point, O(nk)."""
    n = diss.shape[0]
    nearest, second = np.empty(n, np.int64), np.empty(n, np.int64)
    dn, ds = np.empty(n, diss.dtype), np.empty(n, diss.dtype)
    for o in range(n):
        nearest[o], second[o], dn[o], ds[o] = _nearest_two_of(diss, o, medoids)
    return nearest, second, dn, ds


@_jit
def _removal_loss(removal, nearest, dn, ds):
    """DeltaTD-_i = sum over the cluster of medoid i of (d_s - d_n), in place (Algorithm 3, line 4)."""
    removal[:] = 0.0
    for o in range(nearest.shape[0]):
        removal[nearest[o]] += ds[o] - dn[o]


@_jit
def _update_caches(diss, medoids, b, nearest, second, dn, ds):
    """Caches after slot b now holds medoid c = medoids[b]: O(1) per point unless its nearest or second
    medoid was slot b or a distance ties with the new medoid (then its O(k) recomputation)."""
    c = medoids[b]
    for o in range(diss.shape[0]):
        x = diss[c, o]
        if nearest[o] == b or second[o] == b or x == dn[o] or x == ds[o]:
            nearest[o], second[o], dn[o], ds[o] = _nearest_two_of(diss, o, medoids)
        elif x < dn[o]:
            second[o], ds[o] = nearest[o], dn[o]
            nearest[o], dn[o] = b, x
        elif x < ds[o]:
            second[o], ds[o] = b, x


@_jit
def _pam_best(diss, is_medoid, k, nearest, dn, ds):
    """Best (delta, slot, candidate) by PAM's case analysis over all k (n - k) pairs (Algorithm 1)."""
    n = diss.shape[0]
    best, bi, bc = np.inf, -1, -1
    for c in range(n):
        if is_medoid[c]:
            continue
        for i in range(k):
            total = 0.0
            for o in range(n):
                d_oc = diss[c, o]
                if nearest[o] == i:          # o loses its medoid: to x_c or to its second nearest
                    total += min(d_oc, ds[o]) - dn[o]
                elif d_oc < dn[o]:           # o keeps its medoid unless x_c is closer
                    total += d_oc - dn[o]
            if total < best:
                best, bi, bc = total, i, c
    return best, bi, bc


@_jit
def _fastpam1_best(diss, is_medoid, k, nearest, dn, ds):
    """Best (delta, slot, candidate) with FastPAM1's O(n) pass per candidate (Algorithm 2).

    Per point o: the loss change of removing its nearest medoid n(o) with x_c added,
    min(d(x_o, x_c), d_s(o)) - d_n(o), goes to slot n(o) (line 9); when x_c is closer than n(o), o moves
    to x_c whichever other medoid is removed, d(x_o, x_c) - d_n(o) for every slot i != n(o) (lines 10-11,
    the rare O(k) case).
    """
    n = diss.shape[0]
    best, bi, bc = np.inf, -1, -1
    delta = np.zeros(k)
    for c in range(n):
        if is_medoid[c]:
            continue
        delta[:] = 0.0
        for o in range(n):
            d_oc = diss[c, o]
            near = nearest[o]
            delta[near] += min(d_oc, ds[o]) - dn[o]
            if d_oc < dn[o]:
                gain = d_oc - dn[o]
                for i in range(k):
                    if i != near:
                        delta[i] += gain
        for i in range(k):
            if delta[i] < best:
                best, bi, bc = delta[i], i, c
    return best, bi, bc


@_jit
def _best_swap_loop(diss, medoids, max_iter, fast):
    n, k = diss.shape[0], medoids.shape[0]
    nearest, second, dn, ds = _new_caches(diss, medoids)
    is_medoid = np.zeros(n, np.bool_)
    for i in range(k):
        is_medoid[medoids[i]] = True
    n_iter, n_swap = 0, 0
    while n_iter < max_iter and k < n:
        if fast:
            best, i, c = _fastpam1_best(diss, is_medoid, k, nearest, dn, ds)
        else:
            best, i, c = _pam_best(diss, is_medoid, k, nearest, dn, ds)
        n_iter += 1
        if not best < 0:
            break
        is_medoid[medoids[i]] = False
        is_medoid[c] = True
        medoids[i] = c
        _update_caches(diss, medoids, i, nearest, second, dn, ds)
        n_swap += 1
    return n_iter, n_swap


@_jit
def _fasterpam_loop(diss, medoids, order, max_iter):
    n, k = diss.shape[0], medoids.shape[0]
    nearest, second, dn, ds = _new_caches(diss, medoids)
    removal = np.zeros(k)
    _removal_loss(removal, nearest, dn, ds)
    delta = np.zeros(k)
    t, last, n_swap = 0, 0, 0
    while t - last < n and t < max_iter * n:
        c = order[t % n]
        if medoids[nearest[c]] != c:
            delta[:] = removal
            shared = 0.0
            for o in range(n):               # Algorithm 3, lines 7-17
                d_oc = diss[c, o]
                if d_oc < dn[o]:
                    shared += d_oc - dn[o]
                    delta[nearest[o]] += dn[o] - ds[o]
                elif d_oc < ds[o]:
                    delta[nearest[o]] += d_oc - ds[o]
            b = 0
            for i in range(1, k):
                if delta[i] < delta[b]:
                    b = i
            if delta[b] + shared < 0:        # eager: perform the first improving swap
                medoids[b] = c
                _update_caches(diss, medoids, b, nearest, second, dn, ds)
                _removal_loss(removal, nearest, dn, ds)
                last, n_swap = t, n_swap + 1
        t += 1
    return t, n_swap


def _check(diss, medoids, check: bool):
    """Contiguous float ``diss`` and int64 ``medoids`` (always checked); with ``check``, the O(n^2)
    :func:`common.kmedoids.check_dissimilarity` of ``diss`` as well."""
    diss = np.ascontiguousarray(diss)
    if not np.issubdtype(diss.dtype, np.floating):
        diss = diss.astype(np.float64)
    if check:
        check_dissimilarity(diss)
    medoids = np.array(medoids, np.int64)
    if medoids.ndim != 1 or len(np.unique(medoids)) != len(medoids) or medoids.min() < 0 \
            or medoids.max() >= diss.shape[0]:
        raise ValueError(f"medoids must be {len(medoids)} distinct indices in [0, {diss.shape[0]})")
    return diss, medoids


def best_swap(diss, medoids, *, method: str = "fastpam1", max_iter: int = 100, check: bool = True):
    """PAM's SWAP (the best swap per iteration) from the given medoids, like
    ``common.kmedoids_swap.best_swap_loop``: method 'pam' (Algorithm 1) or 'fastpam1' (Algorithm 2), the
    same swaps. Returns (medoids [k], iterations, swaps).

    check=False skips the O(n^2) validation of ``diss`` (finite, symmetric, zero diagonal), for a matrix
    that was checked or built once (``common.kmedoids.as_dissimilarity``) and is used many times, e.g. timed:
    at n = 1797 the check costs about as much as one PAM iteration at k = 2."""
    if method not in ("pam", "fastpam1"):
        raise ValueError(f"unknown method {method!r}; choose 'pam' or 'fastpam1'")
    diss, medoids = _check(diss, medoids, check)
    n_iter, n_swap = _best_swap_loop(diss, medoids, max_iter, method == "fastpam1")
    return medoids, int(n_iter), int(n_swap)


def pam_swap(diss, medoids, max_iter: int = 100, *, check: bool = True):
    """Original PAM SWAP: :func:`best_swap` with method='pam'."""
    return best_swap(diss, medoids, method="pam", max_iter=max_iter, check=check)


def fastpam1_swap(diss, medoids, max_iter: int = 100, *, check: bool = True):
    """FastPAM1 SWAP: :func:`best_swap` with method='fastpam1'."""
    return best_swap(diss, medoids, method="fastpam1", max_iter=max_iter, check=check)


def fasterpam_swap(diss, medoids, order=None, max_iter: int = 100, *, check: bool = True):
    """FasterPAM's eager SWAP visiting candidates in ``order`` (default 0..n-1).

    Returns (medoids [k], candidates visited, swaps); ``papers.fasterpam.eager.passes`` turns the
    visits into the kmedoids package's iteration count. ``check`` as in :func:`best_swap`.
    """
    diss, medoids = _check(diss, medoids, check)
    order = np.arange(diss.shape[0]) if order is None else np.asarray(order, np.int64)
    t, n_swap = _fasterpam_loop(diss, medoids, order, max_iter)
    return medoids, int(t), int(n_swap)
