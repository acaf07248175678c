"""VP noise schedules of DPM-Solver: alpha_t, sigma_t, lambda_t = log(alpha_t / sigma_t) and t(lambda).

The forward process is q(x_t | x_0) = N(alpha_t x_0, sigma_t^2 I) with alpha_t^2 + sigma_t^2 = 1
(Sec. 2 of the paper). DPM-Solver works in the half log-SNR lambda_t (Eq. (3.3)-(3.4)), which is
strictly decreasing in t, so every schedule also provides its inverse ``inverse_lambda``.

Every function takes ``t`` (or ``lam``) of any shape and float dtype and returns that dtype (float32
or float64); stored tables are float64 numpy arrays cast to the input dtype at call time.

Schedules:
  * :class:`ContinuousLinear` : beta(t) = beta_0 + t (beta_1 - beta_0) on [0, 1] (ScoreSDE VP,
    log alpha_t = -t^2 (beta_1 - beta_0) / 4 - t beta_0 / 2); closed-form inverse.
  * :class:`ContinuousCosine` : the improved-DDPM cosine schedule in continuous time, T = 0.9946.
  * :class:`Discrete`         : a discrete-time DPM given its betas, mapped to t_n = (n + 1) / N with
    log alpha piecewise linear in t (as in the official code); :func:`discrete_linear` (DDPM,
    beta in [1e-4, 0.02]) and :func:`discrete_cosine` (improved DDPM) build the usual ones.
"""
from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np


def _dtype_of(x):
    x = jnp.asarray(x)
    return x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.result_type(float)


def log_alpha_from_lambda(lam):
    """log alpha = -log(1 + e^{-2 lambda}) / 2 (from alpha^2 = sigmoid(2 lambda))."""
    return -0.5 * jnp.logaddexp(jnp.zeros_like(lam), -2.0 * lam)


def interp_extrapolate(x, xp, yp):
    """Piecewise-linear y(x) through (xp, yp), xp increasing, extended linearly beyond both ends."""
    k = xp.shape[0]
    idx = jnp.clip(jnp.searchsorted(xp, x, side="right"), 1, k - 1)
    x0, x1, y0, y1 = xp[idx - 1], xp[idx], yp[idx - 1], yp[idx]
    return y0 + (x - x0) * (y1 - y0) / (x1 - x0)


class VPSchedule:
    """Base class. Subclasses define ``T``, ``total_n`` and ``log_alpha(t)``; ``inverse_lambda`` too."""
    T: float = 1.0
    total_n: int = 1000
    discrete: bool = False

    def log_alpha(self, t):
        raise NotImplementedError

    def inverse_lambda(self, lam):
        raise NotImplementedError

    def alpha(self, t):
        """alpha_t = sqrt(alphā_t) of DDPM."""
        return jnp.exp(self.log_alpha(t))

    def sigma(self, t):
        """sigma_t = sqrt(1 - alpha_t^2), computed with expm1 for accuracy at small t."""
        return jnp.sqrt(-jnp.expm1(2.0 * self.log_alpha(t)))

    def lambda_(self, t):
        """lambda_t = log alpha_t - log sigma_t (half log-SNR)."""
        la = self.log_alpha(t)
        return la - 0.5 * jnp.log(-jnp.expm1(2.0 * la))

    def f_g2(self, t):
        """Drift coefficient f(t) = d log alpha_t / dt and g^2(t) = d sigma_t^2/dt - 2 f sigma_t^2 = -2 f.

        (Eq. (2.2): dx = f(t) x dt + g(t) dw.) Computed by forward-mode autodiff of log_alpha.
        """
        t = jnp.asarray(t)
        _, f = jax.jvp(self.log_alpha, (t,), (jnp.ones_like(t),))
        return f, -2.0 * f

    def model_time(self, t):
        """The time input of the noise-prediction network, on the scale of t in [0, T].

        Every schedule hands the network a time on this one scale; the network's sinusoidal embedding
        multiplies it by 1000 (``models.timestep_embedding``), as DDPM / ScoreSDE models do with their labels.
        Continuous schedules pass t itself.
        """
        return t


@dataclasses.dataclass(frozen=True, eq=False)
class ContinuousLinear(VPSchedule):
    """ScoreSDE VP-SDE: beta(t) = beta_0 + t (beta_1 - beta_0)."""
    beta_0: float = 0.1
    beta_1: float = 20.0
    T: float = 1.0
    total_n: int = 1000

    def log_alpha(self, t):
        t = jnp.asarray(t)
        return -0.25 * t ** 2 * (self.beta_1 - self.beta_0) - 0.5 * t * self.beta_0

    def inverse_lambda(self, lam):
        """Root of (beta_1 - beta_0) t^2 / 4 + beta_0 t / 2 + log alpha(lam) = 0, written without cancellation."""
        lam = jnp.asarray(lam)
        db = self.beta_1 - self.beta_0
        tmp = 2.0 * db * jnp.logaddexp(-2.0 * lam, jnp.zeros_like(lam))   # = -4 db log alpha
        return tmp / (jnp.sqrt(self.beta_0 ** 2 + tmp) + self.beta_0) / db


@dataclasses.dataclass(frozen=True, eq=False)
class ContinuousCosine(VPSchedule):
    """Improved-DDPM cosine schedule, alpha_t = cos((t+s)/(1+s) pi/2) / cos(s/(1+s) pi/2); T = 0.9946."""
    s: float = 0.008
    T: float = 0.9946
    total_n: int = 1000

    def _log_alpha_0(self):
        return math.log(math.cos(self.s / (1.0 + self.s) * math.pi / 2.0))

    def log_alpha(self, t):
        t = jnp.asarray(t)
        return jnp.log(jnp.cos((t + self.s) / (1.0 + self.s) * math.pi / 2.0)) - self._log_alpha_0()

    def inverse_lambda(self, lam):
        la = log_alpha_from_lambda(jnp.asarray(lam))
        return jnp.arccos(jnp.exp(la + self._log_alpha_0())) * 2.0 * (1.0 + self.s) / math.pi - self.s


@dataclasses.dataclass(frozen=True, eq=False)
class Discrete(VPSchedule):
    """A discrete-time DPM with betas beta_0..beta_{N-1}: t_n = (n+1)/N, log alpha_{t_n} = sum log(1-beta)/2.

    Between grid points log alpha is linear in t (so inverse_lambda is exact on that interpolant).
    """
    betas: np.ndarray = None
    T: float = 1.0
    discrete: bool = True

    @property
    def total_n(self) -> int:
        return int(len(self.betas))

    @property
    def t_table(self) -> np.ndarray:
        return np.linspace(0.0, 1.0, self.total_n + 1)[1:]

    @property
    def log_alpha_table(self) -> np.ndarray:
        return 0.5 * np.cumsum(np.log1p(-np.asarray(self.betas, np.float64)))

    def log_alpha(self, t):
        t = jnp.asarray(t)
        dt = _dtype_of(t)
        return interp_extrapolate(t, jnp.asarray(self.t_table, dt), jnp.asarray(self.log_alpha_table, dt))

    def inverse_lambda(self, lam):
        lam = jnp.asarray(lam)
        dt = _dtype_of(lam)
        la = log_alpha_from_lambda(lam)
        # log alpha decreases with t: flip both tables so xp increases.
        return interp_extrapolate(la, jnp.asarray(self.log_alpha_table[::-1].copy(), dt),
                                  jnp.asarray(self.t_table[::-1].copy(), dt))

    def model_time(self, t):
        """t - 1/N = n / N for t = t_n = (n + 1) / N: the official code's discrete model input
        1000 (t - 1/N) divided by 1000, because the network's embedding applies the factor 1000 itself
        (so a 1000-step DDPM network sees its integer label n)."""
        return t - 1.0 / self.total_n


def discrete_linear(n: int = 1000, beta_min: float = 1e-4, beta_max: float = 0.02) -> Discrete:
    """DDPM's linear-beta schedule with N steps."""
    return Discrete(betas=np.linspace(beta_min, beta_max, n, dtype=np.float64))


def discrete_cosine(n: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> Discrete:
    """Improved DDPM's cosine schedule: beta_n = min(1 - abar(n+1)/abar(n), 0.999)."""
    f = lambda u: np.cos((u / n + s) / (1 + s) * np.pi / 2) ** 2
    steps = np.arange(n, dtype=np.float64)
    return Discrete(betas=np.minimum(1.0 - f(steps + 1) / f(steps), max_beta))


def make_schedule(name: str, **kwargs) -> VPSchedule:
    """By name: 'continuous_linear', 'continuous_cosine', 'discrete_linear', 'discrete_cosine'."""
    builders = {"continuous_linear": ContinuousLinear, "continuous_cosine": ContinuousCosine,
                "discrete_linear": discrete_linear, "discrete_cosine": discrete_cosine}
    if name not in builders:
        raise ValueError(f"unknown schedule {name!r}; choose from {sorted(builders)}")
    return builders[name](**kwargs)
