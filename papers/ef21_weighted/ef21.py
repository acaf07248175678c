"""EF21 and EF21-W with the n clients as shards of a device mesh (``jax.shard_map``).

One round t (Algorithm 1 = EF21, Algorithm 2 = EF21-W of the paper):
    x^{t+1}     = x^t - gamma g^t                                  (server, line 3)
    c_i^t       = C(s_i * grad_i(x^{t+1}) - g_i^t)                 (client i, line 5)
    g_i^{t+1}   = g_i^t + c_i^t                                    (client i, line 6)
    g^{t+1}     = g^t + sum_i a_i c_i^t                            (server, line 8)
EF21:    s_i = 1,              a_i = 1/n.
EF21-W:  s_i = 1/(n w_i),      a_i = w_i,    w_i = L_i / sum_j L_j.
Options: grad_i is the exact local gradient or a minibatch estimate (EF21-SGD / EF21-W-SGD); with
partial participation (EF21-PP / EF21-W-PP) client i takes part with probability p each round and
otherwise sends nothing (c_i^t = 0). The step size gamma is an input (see theory.py): the old
L_QM step or the new L_AM step.

Clients live on the mesh axis 'clients': every device holds n/devices clients (clients are
padded with inert ones, s_i = a_i = 0, to a multiple of the device count) and runs the client
code for all of them with vmap; the server sums sum_i a_i c_i^t and the metric grad f(x^{t+1})
with ``psum`` over 'clients'. The random numbers of client i in round t come from
fold_in(fold_in(key, t), i) with the global client index i, so the iterates do not depend on how
the clients are spread over devices.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P

from common import sharding as common_sharding
from papers.ef21_weighted import compressors, problems

AXIS = "clients"


def make_client_mesh(devices=None):
    """A 1-d mesh whose single axis 'clients' spans the given (default: all) devices."""
    return common_sharding.make_mesh([(AXIS, -1)], devices=devices)


def method_coefficients(L_i: np.ndarray, weighted: bool) -> tuple[np.ndarray, np.ndarray]:
    """(s_i, a_i) of the round above: EF21 (1, 1/n) or EF21-W (1/(n w_i), w_i)."""
    L_i = np.asarray(L_i, dtype=np.float64)
    n = len(L_i)
    if not weighted:
        return np.ones(n), np.full(n, 1.0 / n)
    l_am = L_i.mean()
    return l_am / L_i, L_i / (n * l_am)     # 1/(n w_i) = L_AM / L_i,  w_i = L_i / (n L_AM)


def pad_clients(tree: dict, n_pad: int) -> dict:
    """Appends zero clients so the leading axis has n_pad entries."""
    def pad(x):
        x = np.asarray(x)
        extra = n_pad - x.shape[0]
        return np.concatenate([x, np.zeros((extra,) + x.shape[1:], x.dtype)]) if extra else x
    return {k: pad(v) for k, v in tree.items()}


@functools.lru_cache(maxsize=None)
def _build_runner(mesh, kind: str, lam: float, k: int, rounds: int, batch: int, n_real: int):
    """A jitted function running ``rounds`` rounds from a given state.

    Only shapes are static; the compressor choice (Top-k or Rand-k), the use of minibatch gradients
    and the participation probability are runtime inputs, so all variants of one problem share a
    single compilation (both compressors and both gradients are computed and one is selected).
    """

    def per_device(x0, gcl0, g0, t0, gamma, key, use_randk, use_sgd, p, scale, aggw, cmask, data):
        n_local = gcl0.shape[0]
        cid = jax.lax.axis_index(AXIS) * n_local + jnp.arange(n_local)
        grad_fn = functools.partial(problems.client_grad, kind, lam)

        def client_update(x, g_i, s_i, a_i, live, c_data, ckey):
            k_sgd, k_comp, k_part = jax.random.split(ckey, 3)
            exact = grad_fn(x, c_data)
            est = jnp.where(use_sgd, grad_fn(x, problems.sample_rows(c_data, k_sgd, batch)), exact)
            delta = s_i * est - g_i
            c = jnp.where(use_randk, compressors.rand_k(delta, k_comp, k), compressors.top_k(delta, k))
            sent = live * jax.random.bernoulli(k_part, p).astype(x.dtype)
            c = sent * c
            return g_i + c, a_i * c, live * exact, sent

        def body(carry, t):
            x, gcl, g = carry
            x_new = x - gamma * g                                         # Alg. 1/2, line 3
            rkey = jax.random.fold_in(key, t)
            ckeys = jax.vmap(lambda i: jax.random.fold_in(rkey, i))(cid)
            gcl_new, contrib, exact, sent = jax.vmap(client_update, in_axes=(None, 0, 0, 0, 0, 0, 0))(
                x_new, gcl, scale, aggw, cmask, data, ckeys)                # lines 5-6
            g_new = g + jax.lax.psum(contrib.sum(axis=0), AXIS)              # line 8
            full_grad = jax.lax.psum(exact.sum(axis=0), AXIS) / n_real
            n_sent = jax.lax.psum(sent.sum(), AXIS)
            return (x_new, gcl_new, g_new), (jnp.sum(full_grad**2), n_sent)

        (x, gcl, g), (gn2, n_sent) = jax.lax.scan(body, (x0, gcl0, g0), t0 + jnp.arange(rounds))
        return x, gcl, g, gn2, n_sent

    rep, cl = P(), P(AXIS)
    fn = jax.shard_map(per_device, mesh=mesh,
                       in_specs=(rep, cl, rep, rep, rep, rep, rep, rep, rep, cl, cl, cl, cl),
                       out_specs=(rep, cl, rep, rep, rep))
    return jax.jit(fn)


@functools.lru_cache(maxsize=None)
def _build_init(mesh, kind: str, lam: float, n_real: int):
    """g_i^0 = s_i grad f_i(x^0), g^0 = sum_i a_i g_i^0 and ||grad f(x^0)||^2 (uncompressed start)."""
    def per_device(x0, scale, aggw, cmask, data):
        grads = jax.vmap(lambda c: problems.client_grad(kind, lam, x0, c))(data) * cmask[:, None]
        gcl = scale[:, None] * grads
        g = jax.lax.psum((aggw[:, None] * gcl).sum(axis=0), AXIS)
        full = jax.lax.psum(grads.sum(axis=0), AXIS) / n_real
        return gcl, g, jnp.sum(full**2)
    rep, cl = P(), P(AXIS)
    return jax.jit(jax.shard_map(per_device, mesh=mesh, in_specs=(rep, cl, cl, cl, cl),
                                 out_specs=(cl, rep, rep)))


class EF21Runner:
    """Places one problem's clients on a mesh and runs EF21 / EF21-W on it.

    Usage: ``r = EF21Runner(problem, mesh, sgd_batch=b); state = r.init(x0, weighted); state, hist = r.run(state,
    gamma=..., rounds=...)``. The state is a dict {x [d], g_clients [n_pad, d] (sharded), g [d],
    t []} so a caller can checkpoint it between calls.
    """

    def __init__(self, problem: problems.Problem, mesh, dtype=jnp.float64, sgd_batch: int = 1):
        self.problem, self.mesh, self.dtype, self.sgd_batch = problem, mesh, dtype, int(sgd_batch)
        n_dev = mesh.shape[AXIS]
        self.n = problem.n
        self.n_pad = -(-self.n // n_dev) * n_dev
        data = pad_clients(problem.client_data(), self.n_pad)
        data["count"] = np.maximum(data["count"], 1.0)
        self.cl_sharding = NamedSharding(mesh, P(AXIS))
        self.rep_sharding = NamedSharding(mesh, P())
        self.data = jax.device_put({k: jnp.asarray(v, dtype) for k, v in data.items()}, self.cl_sharding)
        self.cmask = self._clients(np.ones(self.n))

    def _clients(self, v: np.ndarray) -> jax.Array:
        v = pad_clients({"v": np.asarray(v, np.float64)}, self.n_pad)["v"]
        return jax.device_put(jnp.asarray(v, self.dtype), self.cl_sharding)

    def coefficients(self, weighted: bool):
        s, a = method_coefficients(self.problem.L_i, weighted)
        return self._clients(s), self._clients(a)

    def init(self, x0: np.ndarray, weighted: bool) -> tuple[dict, float]:
        """The state at round 0 and ||grad f(x^0)||^2."""
        scale, aggw = self.coefficients(weighted)
        x0 = jax.device_put(jnp.asarray(x0, self.dtype), self.rep_sharding)
        init = _build_init(self.mesh, self.problem.kind, float(self.problem.lam), self.n)
        gcl, g, gn2 = init(x0, scale, aggw, self.cmask, self.data)
        return {"x": x0, "g_clients": gcl, "g": g, "t": jnp.asarray(0, jnp.int32)}, float(gn2)

    def run(self, state: dict, *, gamma: float, weighted: bool, rounds: int, compressor: str = "top_k",
            k: int = 1, sgd_batch: int = 0, participation: float = 1.0, seed: int = 0):
        """Runs ``rounds`` rounds; returns (state, {'gn2': [rounds], 'n_sent': [rounds]}).

        gn2[j] = ||grad f(x^{t+j+1})||^2 (exact full gradient, a metric only), n_sent[j] = number of
        clients that sent a message in that round.
        """
        if compressor not in ("top_k", "rand_k"):
            raise ValueError(f"the runner supports compressor 'top_k' or 'rand_k', got {compressor!r}")
        if not 0.0 < participation <= 1.0:
            raise ValueError(f"participation must lie in (0, 1], got {participation}")
        scale, aggw = self.coefficients(weighted)
        runner = _build_runner(self.mesh, self.problem.kind, float(self.problem.lam), int(k), int(rounds),
                               max(int(self.sgd_batch), 1), self.n)
        if sgd_batch and sgd_batch != self.sgd_batch:
            raise ValueError(f"this runner was built for minibatches of {self.sgd_batch} rows, got {sgd_batch}")
        key = jax.random.PRNGKey(seed)
        flag = lambda v: jnp.asarray(v)
        x, gcl, g, gn2, n_sent = runner(state["x"], state["g_clients"], state["g"], state["t"],
                                        jnp.asarray(gamma, self.dtype), key, flag(compressor == "rand_k"),
                                        flag(sgd_batch > 0), jnp.asarray(participation, self.dtype),
                                        scale, aggw, self.cmask, self.data)
        new_state = {"x": x, "g_clients": gcl, "g": g, "t": state["t"] + rounds}
        return new_state, {"gn2": gn2, "n_sent": n_sent}


def rounds_to_tolerance(gn2_0: float, gn2: np.ndarray, tol: float) -> int:
    """Smallest t >= 1 with ||grad f(x^t)||^2 <= tol * ||grad f(x^0)||^2 (gn2[t-1]); -1 if never."""
    hit = np.nonzero(np.asarray(gn2) <= tol * gn2_0)[0]
    return int(hit[0]) + 1 if hit.size else -1
