"""Hopfield Networks is All You Need (Ramsauer et al., ICLR 2021) in JAX/Flax.

Public API: the energy (Eq. (2)) and update rule (Eq. (3)) of the modern Hopfield network, and the
Flax layers ``Hopfield``, ``HopfieldPooling``, ``HopfieldLayer`` (Sec. 3).
"""
from papers.hopfield_layers.hopfield import energy, hopfield_update
from papers.hopfield_layers.layers import Hopfield, HopfieldLayer, HopfieldPooling

__all__ = ["Hopfield", "HopfieldPooling", "HopfieldLayer", "hopfield_update", "energy"]
