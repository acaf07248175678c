"""Stochastic interpolants (Albergo, Boffi, Vanden-Eijnden, 2023) in JAX.

Public API: Interpolant (linear, trig, encoder-decoder, one-sided; gamma choices), the objectives
loss_b / loss_s / loss_eta / loss_v, the exact Gaussian-mixture fields exact_fields / make_exact_fields,
the samplers ode_sample / sde_sample / ode_log_likelihood, and the metrics sliced_w2 / binned_kl.
"""
from papers.stochastic_interpolants.distances import binned_kl, sliced_w2
from papers.stochastic_interpolants.exact import fields as exact_fields
from papers.stochastic_interpolants.exact import make_exact_fields, marginal
from papers.stochastic_interpolants.interpolants import Interpolant
from papers.stochastic_interpolants.objectives import loss_b, loss_eta, loss_s, loss_v
from papers.stochastic_interpolants.samplers import ode_log_likelihood, ode_sample, sde_sample
