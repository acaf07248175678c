"""Neural ODE / CDE / SDE models as pure functions of parameter pytrees (dicts of arrays).

* :func:`neural_ode_field`, :func:`neural_ode_solve` -- thesis Chapter 2, dz/dt = f_theta(t, z); the
  *augmented* option (Dupont et al. 2019; thesis Section 2.4.3) appends ``augment`` zero channels to z0.
* :func:`ncde_logits` -- thesis Chapter 3, Eq. (3.1): z(t0) = zeta_theta(X(t0)),
  dz = f_theta(z) dX(t), output ell_theta(z(T)); X interpolates the observations (backward Hermite cubic
  or rectilinear, via diffrax) and includes the observation times as a channel.
* :func:`gru_logits` -- the baseline: a GRU fed (observation, time gap) at each observed point.
* :func:`generator_paths`, :func:`discriminator_scores` -- thesis Chapter 4.3 (SDE-GAN): generator
  Y_0 = ell(zeta(V)), dY = mu(t, Y) dt + sigma(t, Y) o dW, output alpha Y + beta; discriminator a neural CDE
  over the (time, value) path, H_0 = xi(t_0, y_0), dH = f(t, H) dt + g(t, H) o dY, D = m . H_T.  Both solved
  with the reversible Heun solver of :mod:`reversible` (exact gradients, O(1) memory).
"""
from __future__ import annotations

import math

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

from papers.neural_des import rand
from papers.neural_des import reversible as rv

ACTIVATIONS = {
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "softplus": jax.nn.softplus,
    "lipswish": lambda x: 0.909 * x * jax.nn.sigmoid(x),   # LipSwish: 1-Lipschitz (thesis Section 4.3.3)
    "identity": lambda x: x,
}


# ----------------------------------------------------------------------------- MLP

def init_mlp(key, sizes, dtype=jnp.float32):
    """Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) init. sizes = (in, hidden..., out). Returns [{'w','b'}]."""
    layers = []
    for k, (n_in, n_out) in zip(rand.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:])):
        kw, kb = rand.split(k)
        lim = 1.0 / math.sqrt(n_in)
        layers.append({"w": rand.uniform(kw, (n_in, n_out), dtype, -lim, lim),
                       "b": rand.uniform(kb, (n_out,), dtype, -lim, lim)})
    return layers


def mlp(layers, x, activation="relu", final_activation="identity"):
    """x [..., in] -> [..., out]."""
    act, fin = ACTIVATIONS[activation], ACTIVATIONS[final_activation]
    for i, layer in enumerate(layers):
        x = x @ layer["w"] + layer["b"]
        x = act(x) if i < len(layers) - 1 else fin(x)
    return x


def clip_lipschitz(layers):
    """Clip each weight to [-1/fan_in, 1/fan_in]: every linear map is 1-Lipschitz in the infinity norm.

    The discriminator's Lipschitz control of the thesis (Section 4.3.3, "careful clipping"), used in place of
    a gradient penalty (which would need double backpropagation through the solver).  Deviation: torchsde's
    ``sde_gan`` example clamps every ``Linear`` weight to +-1/out_features instead.
    """
    return [{"w": jnp.clip(l["w"], -1.0 / l["w"].shape[0], 1.0 / l["w"].shape[0]), "b": l["b"]} for l in layers]


# ----------------------------------------------------------------------------- neural ODE

def init_neural_ode(key, state_dim: int, width: int, depth: int, augment: int = 0, dtype=jnp.float32,
                    gain: float = 1.0):
    """Vector field MLP [t, z] -> dz/dt; weights scaled by ``gain`` (> 1: more nonlinear dynamics)."""
    d = state_dim + augment
    layers = init_mlp(key, (d + 1,) + (width,) * depth + (d,), dtype)
    scale = lambda a: jax.device_put(np.asarray(a) * np.asarray(gain, a.dtype))   # on the host: no program per shape
    return {"f": [{"w": scale(l["w"]), "b": scale(l["b"])} for l in layers]}


def neural_ode_field(t, z, params):
    """f_theta(t, z) = MLP([t, z]) with softplus hidden activations, tanh output. z [d] -> [d]."""
    return mlp(params["f"], jnp.concatenate([jnp.reshape(t, (1,)).astype(z.dtype), z]), "softplus", "tanh")


def augment_state(z0, augment: int):
    """Augmented neural ODE: z0 [d] -> [d + augment], extra channels zero."""
    return jnp.concatenate([z0, jnp.zeros((augment,), z0.dtype)]) if augment else z0


def neural_ode_solve(params, z0, ts, augment: int = 0, solver="tsit5"):
    """Solution of the (augmented) neural ODE at times ts [N] (diffrax, fixed steps between ts): [N, d+aug]."""
    s = {"tsit5": diffrax.Tsit5(), "heun": diffrax.Heun(), "reversible_heun": diffrax.ReversibleHeun()}[solver]
    sol = diffrax.diffeqsolve(diffrax.ODETerm(lambda t, z, p: neural_ode_field(t, z, p)), s, ts[0], ts[-1],
                              None, augment_state(z0, augment), args=params, saveat=diffrax.SaveAt(ts=ts),
                              stepsize_controller=diffrax.StepTo(ts=ts))
    return sol.ys


# ----------------------------------------------------------------------------- neural CDE

def init_ncde(key, in_channels: int, hidden: int, width: int, depth: int, n_out: int, dtype=jnp.float32):
    k1, k2, k3 = rand.split(key, 3)
    return {"init": init_mlp(k1, (in_channels, hidden), dtype),
            "f": init_mlp(k2, (hidden,) + (width,) * depth + (hidden * in_channels,), dtype),
            "out": init_mlp(k3, (hidden, n_out), dtype)}


def ncde_vector_field(params, z):
    """f_theta(z): [hidden] -> [hidden, channels] (ReLU MLP, tanh output as in the thesis' CDE experiments)."""
    hidden = params["init"][0]["w"].shape[1]
    return mlp(params["f"], z, "relu", "tanh").reshape(hidden, -1)


def control_path(values, interpolation: str):
    """diffrax interpolation of one series. values [K, c] at knots s = 0..K-1 (the observation index).

    The knots are the observation index, with the real observation times as channel 0 (torchcde's default
    when no times are given); this lets every series of a batch share one solver grid while keeping its own
    irregular times.
      "rectilinear": ``diffrax.rectilinear_interpolation`` (time channel moves first, then the values).  Piecewise
        linear, so the path is the one interpolated over time, reparametrised; the CDE's solution is the same
        (a CDE is invariant to reparametrising its control).
      "hermite": cubic Hermite with backward differences (``diffrax.backward_hermite_coefficients``).  Not the
        curve interpolated over time: the backward-difference slopes are per unit index, not per unit time,
        so between observations the path differs (on 16 spirals with 70 % dropped by up to 0.25 in the value
        channels), and its time channel is not monotone.  It is a continuous path through every observation
        (with its time), so a valid control, but a different model from Hermite interpolation over time.
    Returns (interpolation, s1) with s1 the end of the knot range.
    """
    k = values.shape[0]
    if interpolation == "hermite":
        s = jnp.arange(k, dtype=values.dtype)
        return diffrax.CubicInterpolation(s, diffrax.backward_hermite_coefficients(s, values)), float(k - 1)
    if interpolation == "rectilinear":
        # diffrax interleaves its ``ts`` argument (here the observation times) so that it moves first and the
        # value channels follow: knots [t0,y0], [t1,y0], [t1,y1], [t2,y1], ...
        s = jnp.arange(2 * k - 1, dtype=values.dtype)
        t_rect, y_rect = diffrax.rectilinear_interpolation(values[:, 0], values[:, 1:])
        return diffrax.LinearInterpolation(s, jnp.concatenate([t_rect[:, None], y_rect], axis=1)), float(2 * k - 2)
    raise ValueError(f"unknown interpolation {interpolation!r}; use 'hermite' or 'rectilinear'")


def ncde_final_state(params, values, interpolation: str = "hermite", steps_per_knot: int = 1,
                     solver: str = "scan"):
    """z(T) of the neural CDE dz = f_theta(z) dX over one series values [K, c] (channel 0 = time): [hidden].

    The CDE is solved as the ODE dz/ds = f_theta(z) dX/ds (thesis Section 3.2.2) with Heun's method and
    ``steps_per_knot`` fixed steps per knot interval; autodiff through it is discretise-then-optimise.
      solver="diffrax": ``diffrax.diffeqsolve`` on ``ControlTerm(...).to_ode()`` (RecursiveCheckpointAdjoint).
      solver="scan": the same Heun steps written as a ``lax.scan`` over the same diffrax interpolation
        (identical numbers up to round-off -- see models_test; it compiles ~10x faster on CPU).
    """
    path, s1 = control_path(values, interpolation)
    z0 = mlp(params["init"], path.evaluate(0.0))
    n_steps = int(round(s1 * steps_per_knot))
    h = 1.0 / steps_per_knot
    if solver == "diffrax":
        term = diffrax.ControlTerm(lambda s, z, p: ncde_vector_field(p, z), path).to_ode()
        sol = diffrax.diffeqsolve(term, diffrax.Heun(), 0.0, s1, h, z0, args=params,
                                  saveat=diffrax.SaveAt(t1=True), stepsize_controller=diffrax.ConstantStepSize(),
                                  max_steps=n_steps, adjoint=diffrax.RecursiveCheckpointAdjoint(checkpoints=n_steps))
        return sol.ys[-1]

    def rhs(s, z):
        return ncde_vector_field(params, z) @ path.derivative(s)

    def heun(z, n):
        s0 = n * h
        k1 = rhs(s0, z)
        k2 = rhs(s0 + h, z + h * k1)
        return z + 0.5 * h * (k1 + k2), None

    z, _ = jax.lax.scan(heun, z0, jnp.arange(n_steps, dtype=values.dtype))
    return z


def ncde_logits(params, values, interpolation: str = "hermite", steps_per_knot: int = 1, solver: str = "scan"):
    """Neural CDE classifier of one series values [K, c]: ell_theta(z(T)), [n_out] (Eq. (3.1))."""
    return mlp(params["out"], ncde_final_state(params, values, interpolation, steps_per_knot, solver))


# ----------------------------------------------------------------------------- GRU baseline

def init_gru(key, in_channels: int, hidden: int, n_out: int, dtype=jnp.float32):
    k1, k2, k3 = rand.split(key, 3)
    lim = 1.0 / math.sqrt(hidden)
    return {"wx": rand.uniform(k1, (in_channels, 3 * hidden), dtype, -lim, lim),
            "wh": rand.uniform(k2, (hidden, 3 * hidden), dtype, -lim, lim),
            "b": jax.device_put(np.zeros((3 * hidden,), dtype)),
            "out": init_mlp(k3, (hidden, n_out), dtype)}


def gru_cell(params, h, x):
    """Standard GRU update: h [H], x [c] -> h' [H]."""
    hsz = h.shape[-1]
    gx = x @ params["wx"] + params["b"]
    gh = h @ params["wh"]
    r = jax.nn.sigmoid(gx[:hsz] + gh[:hsz])
    u = jax.nn.sigmoid(gx[hsz:2 * hsz] + gh[hsz:2 * hsz])
    n = jnp.tanh(gx[2 * hsz:] + r * gh[2 * hsz:])
    return (1.0 - u) * n + u * h


def gru_inputs(values):
    """GRU-with-time-gaps inputs: [values (time channel included), delta t since the previous observation]."""
    dt = jnp.diff(values[:, 0], prepend=values[:1, 0])
    return jnp.concatenate([values, dt[:, None]], axis=1)


def gru_logits(params, values):
    """GRU classifier of one series values [K, c] (channel 0 = time), given the time gaps. Returns [n_out]."""
    hidden = params["wh"].shape[0]

    def body(h, x):
        return gru_cell(params, h, x), None

    h, _ = jax.lax.scan(body, jnp.zeros((hidden,), values.dtype), gru_inputs(values))
    return mlp(params["out"], h)


# ----------------------------------------------------------------------------- SDE-GAN

def init_generator(key, noise_dim: int, init_dim: int, hidden: int, width: int, depth: int, data_dim: int,
                   dtype=jnp.float32):
    ks = rand.split(key, 4)
    return {"init": init_mlp(ks[0], (init_dim, width, hidden), dtype),
            "drift": init_mlp(ks[1], (hidden + 1,) + (width,) * depth + (hidden,), dtype),
            "diffusion": init_mlp(ks[2], (hidden + 1,) + (width,) * depth + (hidden * noise_dim,), dtype),
            "readout": init_mlp(ks[3], (hidden, data_dim), dtype)}


def _generator_field(noise_dim):
    def drift(p, t, z):
        return mlp(p["drift"], jnp.concatenate([jnp.reshape(t, (1,)).astype(z.dtype), z]), "lipswish", "tanh")

    def diffusion(p, t, z):
        out = mlp(p["diffusion"], jnp.concatenate([jnp.reshape(t, (1,)).astype(z.dtype), z]), "lipswish", "tanh")
        return out.reshape(z.shape[0], noise_dim)
    return rv.sde_field(drift, diffusion)


def generator_noise(key, n_increments: int, noise_dim: int, init_dim: int, dtype=jnp.float32):
    """The generator's standard normals for one path: (v [init_dim], eps [n_increments, noise_dim])."""
    k0, kw = jax.random.split(key)
    return jax.random.normal(k0, (init_dim,), dtype), jax.random.normal(kw, (n_increments, noise_dim), dtype)


def generator_paths_from_noise(params, v, eps, ts, noise_dim: int, substeps: int = 1):
    """:func:`generator_paths` given its normals (:func:`generator_noise` with n_increments = substeps (N-1))."""
    n = ts.shape[0]
    fine = jnp.concatenate([jnp.linspace(ts[i], ts[i + 1], substeps + 1)[:-1] for i in range(n - 1)] + [ts[-1:]]) \
        if substeps > 1 else ts
    dws = eps * jnp.sqrt(jnp.diff(fine))[:, None]
    z0 = mlp(params["init"], v, "lipswish")
    zs = rv.reversible_heun(_generator_field(noise_dim), params, z0, fine, rv.sde_increments(fine, dws))
    return mlp(params["readout"], zs[::substeps])


def generator_paths(params, key, ts, noise_dim: int, init_dim: int, substeps: int = 1):
    """One generated path at times ts [N]: [N, data_dim].  Stratonovich SDE, reversible Heun.

    Brownian increments: ``substeps`` per observation interval, drawn from ``key`` (exact Gaussians, as in
    diffrax's UnsafeBrownianPath); the solver grid refines ts by ``substeps``.  The draws are
    :func:`generator_noise`, the solve :func:`generator_paths_from_noise` (split so that the random draws can
    be a separate compiled program).
    """
    v, eps = generator_noise(key, substeps * (ts.shape[0] - 1), noise_dim, init_dim, ts.dtype)
    return generator_paths_from_noise(params, v, eps, ts, noise_dim, substeps)


def init_discriminator(key, data_dim: int, hidden: int, width: int, depth: int, dtype=jnp.float32):
    ks = rand.split(key, 3)
    c = data_dim + 1
    return {"init": init_mlp(ks[0], (c, width, hidden), dtype),
            "f": init_mlp(ks[1], (hidden + 1,) + (width,) * depth + (hidden * c,), dtype),
            "readout": init_mlp(ks[2], (hidden, 1), dtype)}


def _discriminator_field(p, t, h):
    out = mlp(p["f"], jnp.concatenate([jnp.reshape(t, (1,)).astype(h.dtype), h]), "lipswish", "tanh")
    return out.reshape(h.shape[0], -1)


def discriminator_score(params, ts, ys):
    """Neural CDE critic of one path: ts [N], ys [N, data_dim] -> scalar.

    Control X = linear interpolation of (t, y) (one reversible-Heun step per interval); gradients flow into
    ys, hence into the generator.
    """
    xs = jnp.concatenate([ts[:, None], ys], axis=1)
    h0 = mlp(params["init"], xs[0], "lipswish")
    hs = rv.reversible_heun(_discriminator_field, params, h0, ts, jnp.diff(xs, axis=0))
    return mlp(params["readout"], hs[-1])[0]


def clip_discriminator(params):
    """Lipschitz clipping of the critic's vector field and readout (see :func:`clip_lipschitz`); its initial
    network xi is not clipped (torchsde's ``sde_gan`` example clips every layer of the critic, xi included)."""
    return {"init": params["init"], "f": clip_lipschitz(params["f"]), "readout": clip_lipschitz(params["readout"])}
