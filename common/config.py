"""Strict parsing of config arguments: ``get_config("small")`` or ``get_config("small,seed=3")``.

Every paper's ``configs/default.py`` defines its variants as builder functions and calls
:func:`build_config`. An unknown variant or override key raises :class:`ConfigError` at once,
naming the valid choices, so a typo fails at second 0, not hour 3.
"""
from __future__ import annotations

import ast
from typing import Callable, Mapping

import ml_collections

VARIANTS = ("smoke", "small", "paper")


class ConfigError(ValueError):
    """A config argument names an unknown variant or key, or has a malformed value."""


def split_arg(arg: str | None, default_variant: str = "small") -> tuple[str, dict[str, object]]:
    """Splits ``"small,seed=3,optim.lr=1e-3"`` into ``("small", {"seed": 3, "optim.lr": 0.001})``."""
    if not arg:
        return default_variant, {}
    parts = [p.strip() for p in _split_top_level(arg) if p.strip()]
    variant, overrides = parts[0], {}
    if "=" in variant:
        raise ConfigError(f"config argument {arg!r} must start with a variant name, e.g. 'small,{variant}'")
    for part in parts[1:]:
        if "=" not in part:
            raise ConfigError(f"override {part!r} in {arg!r} is not of the form key=value")
        key, raw = (s.strip() for s in part.split("=", 1))
        overrides[key] = parse_value(raw)
    return variant, overrides


def _split_top_level(arg: str) -> list[str]:
    """Splits at commas outside brackets and quotes, so ``"small,sizes=(100,200)"`` keeps the tuple whole."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(arg):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(arg[start:i])
            start = i + 1
    if depth != 0 or quote:
        raise ConfigError(f"config argument {arg!r} has an unclosed bracket or quote")
    parts.append(arg[start:])
    return parts


def parse_value(raw: str) -> object:
    """Parses a Python literal (numbers, bools, tuples, quoted strings); bare words stay strings."""
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return raw


def apply_overrides(config: ml_collections.ConfigDict, overrides: Mapping[str, object]) -> None:
    """Sets dotted keys in place; an unknown key raises ConfigError listing the valid ones."""
    for dotted, value in overrides.items():
        *parents, leaf = dotted.split(".")
        node = config
        for name in parents:
            if name not in node or not isinstance(node[name], ml_collections.ConfigDict):
                raise ConfigError(f"unknown config key {dotted!r}; valid keys: {sorted(flat_keys(config))}")
            node = node[name]
        if leaf not in node:
            raise ConfigError(f"unknown config key {dotted!r}; valid keys: {sorted(flat_keys(config))}")
        old = node[leaf]
        if isinstance(old, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if old is not None and isinstance(old, (bool, int, float, str)) and type(old) is not type(value):
            raise ConfigError(f"config key {dotted!r} is {type(old).__name__}, got {value!r}")
        node[leaf] = value


def flat_keys(config: ml_collections.ConfigDict, prefix: str = "") -> list[str]:
    """All leaf keys of a nested ConfigDict in dotted form."""
    keys = []
    for name, value in config.items():
        if isinstance(value, ml_collections.ConfigDict):
            keys.extend(flat_keys(value, f"{prefix}{name}."))
        else:
            keys.append(f"{prefix}{name}")
    return keys


def build_config(arg: str | None, builders: Mapping[str, Callable[[], ml_collections.ConfigDict]],
                 default_variant: str = "small") -> ml_collections.ConfigDict:
    """Builds the named variant, applies overrides and locks the result.

    Args:
      arg: the string after ``:`` in ``--config=path/default.py:small,seed=3`` (None: default variant).
      builders: maps each variant name (smoke, small, paper) to a function returning its ConfigDict.
    """
    variant, overrides = split_arg(arg, default_variant)
    if variant not in builders:
        raise ConfigError(f"unknown config variant {variant!r}; valid variants: {sorted(builders)}")
    config = builders[variant]()
    config.variant = variant
    apply_overrides(config, overrides)
    config.lock()
    return config


def to_dict(config: ml_collections.ConfigDict) -> dict:
    """A plain, JSON-serialisable dict of the config (tuples become lists)."""
    return ml_collections.ConfigDict(config).to_dict()


def raise_if_invalid(problems: list[str], what: str) -> None:
    """Raises one ConfigError listing every problem (a paper's value checks, run before any work)."""
    if problems:
        raise ConfigError(f"invalid {what} config (nothing was run):\n  " + "\n  ".join(problems))
