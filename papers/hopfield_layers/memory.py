"""The associative-memory experiments behind claims 1 and 2: one-step retrieval of masked +-1
patterns (modern vs classical Hopfield net, same queries) and the fixed-point regimes vs beta.

Each ``run_*`` function takes its config block, returns plain Python results (JSON-ready) and is
deterministic in the given seed.
"""
from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from papers.hopfield_layers import hopfield as hf


# --------------------------------------------------------------------------- claim 1: retrieval

@jax.jit
def _modern_retrieval(queries, patterns, targets, betas):
    """Per-query exact retrieval of one update of Eq. (3) for each beta. queries/targets: [T, q, d];
    patterns: [T, N, d]; betas: [B] -> [B, T * q]."""
    def at_beta(beta):
        new = jax.vmap(lambda q, x: hf.hopfield_update(q, x, beta))(queries, patterns)
        return hf.exact_retrieval(new, targets).reshape(-1)
    return jax.lax.map(at_beta, betas)


@jax.jit
def _classical_retrieval(queries, weights, targets):
    """Per-query exact retrieval of the classical Hebbian net (asynchronous sign-update sweeps until a
    fixed point, at most 100 sweeps). queries/targets: [Q, d]; weights: [Q, d, d] (each query's net)."""
    return hf.exact_retrieval(jax.vmap(hf.classical_retrieve)(queries, weights), targets)


def retrieval_queries(key, num_patterns: int, dim: int, num_queries: int, mask_fraction: float):
    """Random +-1 stored patterns and masked queries of them.

    Uses T = ceil(num_queries / q) independent trials of N patterns, with q = min(N, num_queries)
    queries each, so every N is measured on at least ``num_queries`` queries.
    Returns patterns [T, N, d], targets [T, q, d], queries [T, q, d].
    """
    q = min(num_patterns, num_queries)
    trials = math.ceil(num_queries / q)
    k_pat, k_mask = jax.random.split(key)
    patterns = hf.random_binary_patterns(k_pat, (trials, num_patterns, dim))
    targets = patterns[:, :q]
    return patterns, targets, hf.mask_entries(k_mask, targets, mask_fraction)


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4))
def retrieval_at(key, num_patterns: int, dim: int, num_queries: int, mask_fraction: float, betas):
    """Exact-retrieval rates at one N on the same ``num_queries`` masked queries: modern net for each
    beta [B] and classical Hebbian net (scalar)."""
    patterns, targets, queries = retrieval_queries(key, num_patterns, dim, num_queries, mask_fraction)
    modern = jnp.mean(_modern_retrieval(queries, patterns, targets, betas)[:, :num_queries], axis=1)
    per_query_w = jnp.repeat(jax.vmap(hf.hebbian_weights)(patterns), targets.shape[1], axis=0)[:num_queries]
    flat = lambda a: a.reshape(-1, dim)[:num_queries]
    return modern, jnp.mean(_classical_retrieval(flat(queries), per_query_w, flat(targets)))


def run_retrieval(cfg, seed: int) -> dict:
    """Claim 1: exact retrieval vs N and beta for the modern net, and for the classical net on the
    same ``cfg.num_queries`` masked queries per N.

    Returns {num_patterns, betas, dim, num_queries, modern [N][beta], classical [N]} (rates in [0, 1]).
    """
    betas = jnp.asarray(cfg.betas, jnp.float32)
    modern, classical = [], []
    for i, n in enumerate(cfg.num_patterns):
        key = jax.random.fold_in(jax.random.PRNGKey(seed), i)
        m, c = retrieval_at(key, n, cfg.dim, cfg.num_queries, cfg.mask_fraction, betas)
        modern.append(np.asarray(m).tolist())
        classical.append(float(c))
    return {"num_patterns": list(cfg.num_patterns), "betas": list(cfg.betas), "dim": cfg.dim,
            "num_queries": cfg.num_queries, "modern": modern, "classical": classical}


# --------------------------------------------------------------------------- claim 2: regimes

@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4))
def clustered_patterns(key, num_clusters: int, cluster_size: int, dim: int, spread: float):
    """N = num_clusters * cluster_size patterns [N, d] (float64): unit-scale cluster centres
    (N(0, I/d)) plus N(0, spread^2 I/d) noise, so patterns within a cluster are similar."""
    k_c, k_n = jax.random.split(key)
    centres = jax.random.normal(k_c, (num_clusters, 1, dim), jnp.float64) / np.sqrt(dim)
    noise = jax.random.normal(k_n, (num_clusters, cluster_size, dim), jnp.float64) * spread / np.sqrt(dim)
    return (centres + noise).reshape(-1, dim)


def classify_fixed_point(probs, num_patterns: int):
    """Regime of a fixed point from p = softmax(beta X^T xi*): 0 global average (averages >= 90% of
    all patterns), 2 single pattern (max p >= 0.9), 1 metastable (in between). [..., N] -> [...]."""
    n_eff = hf.effective_patterns(probs)
    single = jnp.max(probs, axis=-1) >= 0.9
    glob = n_eff >= 0.9 * num_patterns
    return jnp.where(single, 2, jnp.where(glob, 0, 1)), n_eff


def run_regimes(cfg, seed: int) -> dict:
    """Claim 2: iterate Eq. (3) from noisy copies of stored patterns for a log-grid of beta (float64);
    record the largest energy increase along all trajectories, the regime of each fixed point and
    a few energy trajectories for the figure."""
    with jax.enable_x64(True):
        patterns = clustered_patterns(jax.random.PRNGKey(seed), cfg.num_clusters, cfg.cluster_size, cfg.dim, cfg.spread)
        n = patterns.shape[0]
        noise = np.random.default_rng(seed).normal(size=(cfg.num_states, cfg.dim))
        starts = patterns[np.arange(cfg.num_states) % n] + cfg.start_noise / np.sqrt(cfg.dim) * noise
        betas = np.logspace(np.log10(cfg.beta_min), np.log10(cfg.beta_max), cfg.num_betas)

        @jax.jit
        def at_beta(beta):
            final, energies = hf.update_trajectory(starts, patterns, beta, cfg.steps)
            increase = jnp.max(jnp.diff(energies, axis=0) / (1.0 + jnp.abs(energies[:-1])))
            regime, n_eff = classify_fixed_point(hf.separation_probs(final, patterns, beta), n)
            residual = jnp.max(jnp.abs(hf.hopfield_update(final, patterns, beta) - final))
            return increase, regime, n_eff, residual, energies[:, 0]

        out = [jax.device_get(at_beta(jnp.float64(b))) for b in betas]
    regimes = np.stack([o[1] for o in out])                        # [B, S]
    return {
        "betas": betas.tolist(), "num_patterns": int(n), "cluster_size": cfg.cluster_size,
        "max_relative_energy_increase": float(max(o[0] for o in out)),
        "fraction": {name: (regimes == r).mean(axis=1).tolist()
                     for r, name in enumerate(("global", "metastable", "single"))},
        "median_effective_patterns": [float(np.median(o[2])) for o in out],
        "max_fixed_point_residual": [float(o[3]) for o in out],
        "energy_trajectories": [o[4].tolist() for o in out],
    }
