"""The modern Hopfield network with continuous states (Ramsauer et al., ICLR 2021, Sec. 2) and the
classical binary Hopfield network it is compared with.

Notation of the paper: stored patterns are the columns of X = (x_1, ..., x_N) in R^{d x N}; here
they are the ROWS of ``patterns`` [N, d] (so X^T xi is ``patterns @ xi``). The state pattern
(query) is xi in R^d; a batch of states is [..., d]. Equation numbers follow the ICLR 2021 paper.

Pure functions only; everything is jit/vmap friendly.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import logsumexp


def lse(beta: float, z: jnp.ndarray) -> jnp.ndarray:
    """log-sum-exp with inverse temperature: lse(beta, z) = beta^{-1} log sum_i exp(beta z_i) (Sec. 2).

    z: [..., N] -> [...].
    """
    return logsumexp(beta * z, axis=-1) / beta


def energy(state: jnp.ndarray, patterns: jnp.ndarray, beta: float) -> jnp.ndarray:
    """The energy of the modern Hopfield network, Eq. (2):

        E(xi) = -lse(beta, X^T xi) + 1/2 xi^T xi + beta^{-1} log N + 1/2 M^2,

    with M the largest norm of a stored pattern. The constant terms make E >= 0 (Lemma A1).

    state: [..., d]; patterns: [N, d] -> energies [...].
    """
    n = patterns.shape[0]
    big_m = jnp.max(jnp.linalg.norm(patterns, axis=-1))
    overlaps = state @ patterns.T                                   # X^T xi, [..., N]
    return (-lse(beta, overlaps) + 0.5 * jnp.sum(state * state, axis=-1)
            + jnp.log(n) / beta + 0.5 * big_m ** 2)


def separation_probs(state: jnp.ndarray, patterns: jnp.ndarray, beta: float) -> jnp.ndarray:
    """p = softmax(beta X^T xi), the weights of the stored patterns in Eq. (3). [..., d] -> [..., N]."""
    return jax.nn.softmax(beta * (state @ patterns.T), axis=-1)


def hopfield_update(state: jnp.ndarray, patterns: jnp.ndarray, beta: float, steps: int = 1) -> jnp.ndarray:
    """The update rule of the modern Hopfield network, Eq. (3), applied ``steps`` times:

        xi_new = X p = X softmax(beta X^T xi).

    It is the CCCP step for the energy of Eq. (2), so E never increases (Theorem 1).
    state: [..., d]; patterns: [N, d] -> new state [..., d].
    """
    def one(xi, _):
        return (separation_probs(xi, patterns, beta) @ patterns).astype(xi.dtype), None

    state, _ = jax.lax.scan(one, state, None, length=steps)
    return state


def update_trajectory(state: jnp.ndarray, patterns: jnp.ndarray, beta: float, steps: int):
    """Runs Eq. (3) ``steps`` times; returns (final state [..., d], energies [steps + 1, ...])."""
    def one(xi, _):
        new = (separation_probs(xi, patterns, beta) @ patterns).astype(xi.dtype)
        return new, energy(new, patterns, beta)

    final, energies = jax.lax.scan(one, state, None, length=steps)
    return final, jnp.concatenate([energy(state, patterns, beta)[None], energies], axis=0)


def effective_patterns(probs: jnp.ndarray) -> jnp.ndarray:
    """Number of stored patterns a state averages over: the perplexity exp(H(p)). [..., N] -> [...].

    1 at a fixed point near a single pattern, N at the global average, in between at a
    metastable state (Sec. 2, 'three types of fixed points').
    """
    entropy = -jnp.sum(jnp.where(probs > 0, probs * jnp.log(jnp.where(probs > 0, probs, 1.0)), 0.0), axis=-1)
    return jnp.exp(entropy)


# ----------------------------------------------------------------------- classical baseline

def hebbian_weights(patterns: jnp.ndarray) -> jnp.ndarray:
    """Hebbian weight matrix W = sum_i x_i x_i^T with zero diagonal (classical Hopfield net,
    Eq. (1): E = -1/2 xi^T W xi). patterns: [N, d] -> [d, d]."""
    w = patterns.T @ patterns
    return w - jnp.diag(jnp.diag(w))


def classical_sweep(state: jnp.ndarray, weights: jnp.ndarray) -> jnp.ndarray:
    """One asynchronous sweep of the classical Hopfield net: xi_l <- sgn(sum_k W_lk xi_k) for l = 1..d
    in order, each neuron seeing the ones updated before it. A zero field keeps the current value.
    state: [..., d] (entries +-1, or 0 for masked) -> [..., d]."""
    d = weights.shape[0]

    def neuron(l, xi):
        field = xi @ weights[:, l]
        new = jnp.where(field > 0, 1.0, jnp.where(field < 0, -1.0, xi[..., l]))
        return xi.at[..., l].set(new)

    return jax.lax.fori_loop(0, d, neuron, state)


def classical_retrieve(state: jnp.ndarray, weights: jnp.ndarray, max_sweeps: int = 100) -> jnp.ndarray:
    """Asynchronous sign updates of the classical Hopfield net until a fixed point: sweeps
    (:func:`classical_sweep`) repeat until one changes no neuron, or ``max_sweeps`` have run. With a
    symmetric W and zero diagonal every flip lowers E = -1/2 xi^T W xi, so the loop ends at a fixed point
    well before the cap. state: [..., d] -> [..., d]."""
    def keep_going(carry):
        _, changed, sweeps = carry
        return changed & (sweeps < max_sweeps)

    def sweep(carry):
        xi, _, sweeps = carry
        new = classical_sweep(xi, weights)
        return new, jnp.any(new != xi), sweeps + 1

    final, _, _ = jax.lax.while_loop(keep_going, sweep, (state, jnp.asarray(True), jnp.asarray(0)))
    return final


def is_classical_fixed_point(state: jnp.ndarray, weights: jnp.ndarray) -> jnp.ndarray:
    """Whether no neuron of ``state`` would flip: sgn(W xi) agrees with xi wherever the field is
    non-zero. state: [..., d]; weights: [d, d] or [..., d, d] (one net per state) -> bool [...]."""
    field = jnp.einsum("...k,...kl->...l", state, weights)
    return jnp.all((field == 0) | (jnp.sign(field) == state), axis=-1)


# ----------------------------------------------------------------------- retrieval experiment

def random_binary_patterns(key: jax.Array, shape) -> jnp.ndarray:
    """Random +-1 patterns of the given shape (float32)."""
    return jnp.where(jax.random.bernoulli(key, 0.5, shape), 1.0, -1.0).astype(jnp.float32)


def mask_entries(key: jax.Array, patterns: jnp.ndarray, fraction: float) -> jnp.ndarray:
    """Queries: copies of ``patterns`` with ``round(fraction * d)`` random entries per row set to 0."""
    d = patterns.shape[-1]
    n_mask = int(round(fraction * d))
    ranks = jnp.argsort(jax.random.uniform(key, patterns.shape), axis=-1)
    return jnp.where(ranks < n_mask, 0.0, patterns)


def exact_retrieval(retrieved: jnp.ndarray, targets: jnp.ndarray) -> jnp.ndarray:
    """1.0 where sgn(retrieved) equals the target pattern in every entry. [..., d] -> [...]."""
    return jnp.all(jnp.sign(retrieved) == targets, axis=-1).astype(jnp.float32)
