"""Networks for the fields b, s (or the denoiser eta): an MLP for low-dimensional data and a small
U-Net for images. Both take (t [B], x [B, ...]) and return an array shaped like x."""
from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp


def time_features(t, num: int):
    """[t, sin(2 pi k t), cos(2 pi k t) for k = 1..num], [B, 1 + 2 num]."""
    k = jnp.arange(1, num + 1, dtype=t.dtype)
    ang = 2 * jnp.pi * t[:, None] * k
    return jnp.concatenate([t[:, None], jnp.sin(ang), jnp.cos(ang)], -1)


class MLPField(nn.Module):
    """x [B, d] and t [B] -> [B, d]: an MLP on (x, time features)."""
    hidden: Sequence[int] = (256, 256, 256)
    time_freqs: int = 4

    @nn.compact
    def __call__(self, t, x):
        h = jnp.concatenate([x, time_features(t.astype(x.dtype), self.time_freqs)], -1)
        for width in self.hidden:
            h = nn.silu(nn.Dense(width)(h))
        return nn.Dense(x.shape[-1])(h)


class _ResBlock(nn.Module):
    channels: int

    @nn.compact
    def __call__(self, x, temb):
        h = nn.Conv(self.channels, (3, 3))(nn.silu(nn.GroupNorm(num_groups=min(8, x.shape[-1]))(x)))
        h = h + nn.Dense(self.channels)(temb)[:, None, None, :]
        h = nn.Conv(self.channels, (3, 3))(nn.silu(nn.GroupNorm(num_groups=min(8, self.channels))(h)))
        skip = x if x.shape[-1] == self.channels else nn.Conv(self.channels, (1, 1))(x)
        return h + skip


class UNetField(nn.Module):
    """x [B, H, W, C] and t [B] -> [B, H, W, C]: a small residual U-Net (no attention)."""
    channels: Sequence[int] = (64, 128, 256)
    time_freqs: int = 16

    @nn.compact
    def __call__(self, t, x):
        temb = nn.Dense(4 * self.channels[0])(time_features(t.astype(x.dtype), self.time_freqs))
        temb = nn.Dense(4 * self.channels[0])(nn.silu(temb))
        h = nn.Conv(self.channels[0], (3, 3))(x)
        skips = []
        for i, c in enumerate(self.channels):
            h = _ResBlock(c)(h, temb)
            skips.append(h)
            if i < len(self.channels) - 1:
                h = nn.avg_pool(h, (2, 2), (2, 2))
        for i, c in reversed(list(enumerate(self.channels))):
            h = _ResBlock(c)(jnp.concatenate([h, skips[i]], -1), temb)
            if i > 0:
                h = jnp.repeat(jnp.repeat(h, 2, 1), 2, 2)
        h = nn.silu(nn.GroupNorm(num_groups=min(8, h.shape[-1]))(h))
        return nn.Conv(x.shape[-1], (3, 3))(h)


def make_field(config_model):
    """The network named by config.model.kind ('mlp' or 'unet')."""
    if config_model.kind == "mlp":
        return MLPField(hidden=tuple(config_model.hidden), time_freqs=config_model.time_freqs)
    if config_model.kind == "unet":
        return UNetField(channels=tuple(config_model.channels), time_freqs=config_model.time_freqs)
    raise ValueError(f"unknown model kind {config_model.kind!r}; choose 'mlp' or 'unet'")
