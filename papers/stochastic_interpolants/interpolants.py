"""Spatially linear stochastic interpolants x_t = alpha(t) x0 + beta(t) x1 + gamma(t) z (Sec. 2, 4).

Two-sided interpolants (Sec. 2): I(t, x0, x1) = alpha(t) x0 + beta(t) x1 with I(0) = x0, I(1) = x1,
and a latent term gamma(t) z, z ~ N(0, I), gamma(0) = gamma(1) = 0, gamma > 0 on (0, 1).
One-sided interpolants (Sec. 4.2): x0 ~ N(0, I) plays the role of the latent, gamma = 0,
x_t = alpha(t) x0 + beta(t) x1; with alpha^2 + beta^2 = 1 this is score-based (VP) diffusion.

Every interpolant is written as x_t = m(t) + sigma(t) n, with n the Gaussian variable
(z for two-sided, x0 for one-sided) and sigma its coefficient (gamma or alpha): the score is
s = -E[n | x_t] / sigma (Sec. 2) and the antithetic losses use x_t^{+-} = m +- sigma n.
"""
from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp

PATHS = ("linear", "trig", "encdec", "one_sided_linear", "one_sided_trig")
GAMMAS = ("brownian", "bsquared", "sinesquared", "zero")


def gamma_schedule(name: str, a: float, t):
    """(gamma, dgamma/dt, gamma * dgamma/dt) at t (scalar or array).

    brownian: sqrt(a t (1-t)) (gamma*gamma' = a (1-2t)/2 stays finite at the ends);
    bsquared: sqrt(a) t (1-t); sinesquared: sqrt(a) sin^2(pi t); zero: 0.
    """
    t = jnp.asarray(t)
    if name == "brownian":
        g = jnp.sqrt(a * t * (1 - t))
        gg = 0.5 * a * (1 - 2 * t)
        dg = gg / jnp.where(g > 0, g, jnp.inf)      # 0 where gamma = 0 (never used there)
        return g, dg, gg
    if name == "bsquared":
        g, dg = jnp.sqrt(a) * t * (1 - t), jnp.sqrt(a) * (1 - 2 * t)
    elif name == "sinesquared":
        g, dg = jnp.sqrt(a) * jnp.sin(jnp.pi * t) ** 2, jnp.sqrt(a) * jnp.pi * jnp.sin(2 * jnp.pi * t)
    elif name == "zero":
        g = dg = jnp.zeros_like(t)
    else:
        raise ValueError(f"unknown gamma {name!r}; choose from {GAMMAS}")
    return g, dg, g * dg


def gamma_max(name: str, a: float) -> float:
    """max over t in [0, 1] of gamma(t) for the schedules of :func:`gamma_schedule` (a >= 0)."""
    return {"brownian": math.sqrt(a / 4), "bsquared": math.sqrt(a) / 4, "sinesquared": math.sqrt(a),
            "zero": 0.0}[name]


@dataclasses.dataclass(frozen=True)
class Interpolant:
    """A spatially linear interpolant. ``path`` in PATHS, ``gamma`` in GAMMAS, ``a`` the gamma scale."""
    path: str = "linear"
    gamma: str = "brownian"
    a: float = 1.0

    def __post_init__(self):
        if self.path not in PATHS:
            raise ValueError(f"unknown interpolant path {self.path!r}; choose from {PATHS}")
        if self.gamma not in GAMMAS:
            raise ValueError(f"unknown gamma {self.gamma!r}; choose from {GAMMAS}")
        if not self.a >= 0:
            raise ValueError(f"the gamma scale a must be >= 0, got {self.a}")
        if self.path == "trig" and gamma_max(self.gamma, self.a) >= 1:
            raise ValueError(f"the trig interpolant needs gamma < 1 on [0, 1] (alpha = sqrt(1 - gamma^2) cos(pi t/2)); "
                             f"gamma={self.gamma!r} with a={self.a} reaches {gamma_max(self.gamma, self.a):.3g}. "
                             "Valid scales: brownian a < 4, bsquared a < 16, sinesquared a < 1")
        if self.one_sided and self.gamma != "zero":
            raise ValueError("one-sided interpolants have no extra latent: use gamma='zero'")
        if not self.one_sided and self.gamma == "zero" and self.path == "encdec":
            raise ValueError("the encoder-decoder interpolant needs gamma > 0 (x_{1/2} = gamma z)")

    @property
    def one_sided(self) -> bool:
        return self.path.startswith("one_sided")

    def coefficients(self, t) -> dict:
        """alpha, dalpha, beta, dbeta, gamma, dgamma, ggdot (= gamma * dgamma) at t."""
        t = jnp.asarray(t)
        g, dg, gg = gamma_schedule(self.gamma, self.a, t)
        if self.path in ("linear", "one_sided_linear"):
            al, dal, be, dbe = 1 - t, -jnp.ones_like(t), t, jnp.ones_like(t)
        elif self.path in ("trig", "one_sided_trig"):
            # alpha^2 + beta^2 + gamma^2 = 1 (variance preserving); r = sqrt(1 - gamma^2).
            r = jnp.sqrt(1 - g ** 2)
            dr = -gg / r
            c, s = jnp.cos(0.5 * jnp.pi * t), jnp.sin(0.5 * jnp.pi * t)
            al, be = r * c, r * s
            dal, dbe = dr * c - 0.5 * jnp.pi * r * s, dr * s + 0.5 * jnp.pi * r * c
        else:  # encdec: cos^2(pi t) x0 on [0, 1/2), cos^2(pi t) x1 on (1/2, 1]
            c2, dc2 = jnp.cos(jnp.pi * t) ** 2, -jnp.pi * jnp.sin(2 * jnp.pi * t)
            first = t < 0.5
            al, dal = jnp.where(first, c2, 0.0), jnp.where(first, dc2, 0.0)
            be, dbe = jnp.where(first, 0.0, c2), jnp.where(first, 0.0, dc2)
        return dict(alpha=al, dalpha=dal, beta=be, dbeta=dbe, gamma=g, dgamma=dg, ggdot=gg)

    def noise_scale(self, t):
        """sigma(t): the coefficient of the Gaussian variable n (gamma, or alpha when one-sided)."""
        c = self.coefficients(t)
        return c["alpha"] if self.one_sided else c["gamma"]

    def split(self, t, x0, x1, z):
        """(m, dm, sigma, dsigma, n) with x_t = m + sigma n and d/dt x_t = dm + dsigma n.

        t: [B]; x0, x1, z: [B, ...]. For one-sided interpolants x0 must be N(0, I) and z is unused.
        """
        c = self.coefficients(t)
        bc = lambda v: v.reshape(v.shape + (1,) * (x0.ndim - 1))
        if self.one_sided:
            return (bc(c["beta"]) * x1, bc(c["dbeta"]) * x1, bc(c["alpha"]), bc(c["dalpha"]), x0)
        m = bc(c["alpha"]) * x0 + bc(c["beta"]) * x1
        dm = bc(c["dalpha"]) * x0 + bc(c["dbeta"]) * x1
        return m, dm, bc(c["gamma"]), bc(c["dgamma"]), z

    def sample_xt(self, t, x0, x1, z):
        """x_t = I(t, x0, x1) + gamma(t) z, shapes as in :meth:`split`."""
        m, _, sigma, _, n = self.split(t, x0, x1, z)
        return m + sigma * n


def from_config(c) -> Interpolant:
    return Interpolant(path=c.path, gamma=c.gamma, a=float(c.gamma_scale))
