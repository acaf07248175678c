"""Noise-prediction networks eps_theta(x_t, t) (Flax linen).

  * :class:`MLPEps`  residual MLP with a sinusoidal time embedding, for 2-D data.
  * :class:`UNetEps` a DDPM-style U-Net (ResBlocks with GroupNorm + time embedding, self-attention at
    chosen resolutions, skip connections), for 8x8 digits, 28x28 images or CIFAR-10 32x32 (NHWC).
Both take x [B, ...] and a time t [B] on the scale [0, 1] (the schedule's ``model_time``: continuous t, or
n / N for a discrete schedule) and return eps like x.
"""
from __future__ import annotations

import math
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp


def timestep_embedding(t, dim: int, max_period: float = 10_000.0):
    """Sinusoidal embedding of t [B] in [0, 1] (``model_time``), scaled by 1000 as in DDPM/ScoreSDE: [B, dim].

    The factor 1000 is applied here only; schedules must not apply it again."""
    half = dim // 2
    freqs = jnp.exp(-math.log(max_period) * jnp.arange(half, dtype=jnp.float32) / half)
    args = (1000.0 * t.astype(jnp.float32))[:, None] * freqs[None]
    return jnp.concatenate([jnp.sin(args), jnp.cos(args)], axis=-1)


class MLPEps(nn.Module):
    """Residual MLP: h = Dense(x); depth x [h += Dense(SiLU(Dense(SiLU(h)) + Dense(temb)))]; out Dense."""
    hidden: int = 128
    depth: int = 3
    temb_dim: int = 64

    @nn.compact
    def __call__(self, x, t):
        t = jnp.broadcast_to(jnp.asarray(t), x.shape[:1])
        temb = timestep_embedding(t, self.temb_dim)
        temb = nn.Dense(self.hidden)(nn.silu(nn.Dense(self.hidden)(temb)))
        h = nn.Dense(self.hidden)(x.astype(jnp.float32))
        for _ in range(self.depth):
            z = nn.Dense(self.hidden)(nn.silu(h)) + nn.Dense(self.hidden)(nn.silu(temb))
            h = h + nn.Dense(self.hidden)(nn.silu(z))
        return nn.Dense(x.shape[-1])(nn.silu(h)).astype(x.dtype)


class ResBlock(nn.Module):
    out_ch: int
    dropout: float = 0.0

    @nn.compact
    def __call__(self, x, temb, train: bool):
        groups = lambda c: min(32, c // 4) if c >= 4 else 1
        h = nn.silu(nn.GroupNorm(num_groups=groups(x.shape[-1]))(x))
        h = nn.Conv(self.out_ch, (3, 3))(h)
        h = h + nn.Dense(self.out_ch)(nn.silu(temb))[:, None, None, :]
        h = nn.silu(nn.GroupNorm(num_groups=groups(self.out_ch))(h))
        h = nn.Dropout(self.dropout, deterministic=not train)(h)
        h = nn.Conv(self.out_ch, (3, 3))(h)
        if x.shape[-1] != self.out_ch:
            x = nn.Conv(self.out_ch, (1, 1))(x)
        return x + h


class AttnBlock(nn.Module):
    @nn.compact
    def __call__(self, x):
        b, hh, ww, c = x.shape
        h = nn.GroupNorm(num_groups=min(32, max(c // 4, 1)))(x).reshape(b, hh * ww, c)
        h = nn.MultiHeadDotProductAttention(num_heads=1, qkv_features=c)(h, h)
        return x + h.reshape(b, hh, ww, c)


class UNetEps(nn.Module):
    """DDPM U-Net: ch * ch_mult channels per level, num_res_blocks per level, attention at attn_resolutions."""
    ch: int = 128
    ch_mult: Sequence[int] = (1, 2, 2, 2)
    num_res_blocks: int = 2
    attn_resolutions: Sequence[int] = (16,)
    dropout: float = 0.1

    @nn.compact
    def __call__(self, x, t, train: bool = False):
        t = jnp.broadcast_to(jnp.asarray(t), x.shape[:1])
        temb = timestep_embedding(t, self.ch)
        temb = nn.Dense(4 * self.ch)(nn.silu(nn.Dense(4 * self.ch)(temb)))
        h = nn.Conv(self.ch, (3, 3))(x.astype(jnp.float32))
        skips = [h]
        for level, mult in enumerate(self.ch_mult):
            for _ in range(self.num_res_blocks):
                h = ResBlock(self.ch * mult, self.dropout)(h, temb, train)
                if h.shape[1] in self.attn_resolutions:
                    h = AttnBlock()(h)
                skips.append(h)
            if level != len(self.ch_mult) - 1:
                h = nn.Conv(h.shape[-1], (3, 3), strides=(2, 2))(h)
                skips.append(h)
        h = ResBlock(h.shape[-1], self.dropout)(h, temb, train)
        h = AttnBlock()(h)
        h = ResBlock(h.shape[-1], self.dropout)(h, temb, train)
        for level, mult in reversed(list(enumerate(self.ch_mult))):
            for _ in range(self.num_res_blocks + 1):
                h = ResBlock(self.ch * mult, self.dropout)(jnp.concatenate([h, skips.pop()], -1), temb, train)
                if h.shape[1] in self.attn_resolutions:
                    h = AttnBlock()(h)
            if level != 0:
                b, hh, ww, c = h.shape
                h = nn.Conv(c, (3, 3))(jnp.repeat(jnp.repeat(h, 2, 1), 2, 2))
        h = nn.silu(nn.GroupNorm(num_groups=min(32, max(h.shape[-1] // 4, 1)))(h))
        return nn.Conv(x.shape[-1], (3, 3))(h).astype(x.dtype)


def make_model(cfg) -> nn.Module:
    """From config.model: kind 'mlp' (hidden, depth, temb_dim) or 'unet' (ch, ch_mult, ...)."""
    if cfg.kind == "mlp":
        return MLPEps(hidden=cfg.hidden, depth=cfg.depth, temb_dim=cfg.temb_dim)
    if cfg.kind == "unet":
        return UNetEps(ch=cfg.ch, ch_mult=tuple(cfg.ch_mult), num_res_blocks=cfg.num_res_blocks,
                       attn_resolutions=tuple(cfg.attn_resolutions), dropout=cfg.dropout)
    raise ValueError(f"unknown model kind {cfg.kind!r}; use 'mlp' or 'unet'")
