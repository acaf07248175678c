"""A JAX database of chaotic flows: equations, parameters, attractor initial conditions, metadata.

The right-hand sides are written here in JAX. Parameters, initial conditions on the attractor and the
published invariants (maximum Lyapunov exponent, Lyapunov spectrum, Kaplan-Yorke and correlation
dimension, multiscale and Pesin entropy, dominant period, integration step, attractor mean/std) are
data transcribed from the system table of the ``dysts`` package v0.96 (W. Gilpin, "Chaos as an
interpretable benchmark for forecasting and data-driven modelling", NeurIPS 2021 Datasets and
Benchmarks; MIT licence). ``dysts`` itself is not a dependency.

Selection: the autonomous, non-delay, non-Hamiltonian flows of dimension 3 and 4 of that table whose
right-hand side is a closed-form smooth (or piecewise-linear, ``Chua``) expression: 83 systems.

Timescale standardisation (the paper's Sec. 3): time is measured in units of each system's dominant
period ``T`` (the inverse of the dominant frequency of the power spectrum). A trajectory with
``pts_per_period`` points per period has output spacing ``T / pts_per_period``; the fixed-step RK4
integrator takes ``substeps`` steps between output points. :func:`dominant_period` recomputes ``T``
from a trajectory's power spectrum and :func:`resample` brings a trajectory sampled at any step onto
the standard grid.

Batching:
  * ``vmap`` over initial conditions (:func:`integrate` takes ``ics`` of shape [B, D]);
  * ``vmap`` over parameter sets of the same equations (``params`` leaves of shape [B]);
  * :func:`integrate_systems` integrates several systems (any dimensions) in ONE fused ``lax.scan``
    (one compilation; the carry is a tuple with one [B, D_s] array per system), each system in its own
    standardised time.

Noise options: ``observation_noise`` (i.i.d. Gaussian added to the output, in units of each coordinate's
attractor std) and ``dynamical_noise`` (additive Langevin forcing ``sigma * std_i * dW`` applied by a
split step after each RK4 step; time in periods).

Shapes: a state is [D]; a batch of trajectories is [B, N, D]. All functions follow the dtype of the
initial conditions (pass float64 ICs under ``jax.enable_x64(True)`` for double precision).
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

_METADATA = {
    'Aizawa': dict(
        params={'a': 0.95, 'b': 0.7, 'c': 0.6, 'd': 3.5, 'e': 0.25, 'f': 0.1},
        ic=[-0.784502, -0.628877, -0.176203],
        period=2.5837, dt=0.000516826, lyapunov_max=0.134896,
        lyapunov_spectrum=[0.0894788, 0.0203055, -0.309073],
        kaplan_yorke=2.35013, correlation_dimension=1.89265,
        multiscale_entropy=0.514512, pesin_entropy=0.109784,
        mean=[0.00720683, -0.0219454, 0.665324], std=[0.5509, 0.554455, 0.695949]),
    'Arneodo': dict(
        params={'a': -5.5, 'b': 4.5, 'c': 1.0, 'd': -1.0},
        ic=[-2.75157, 0.190798, 3.47036],
        period=3.1641, dt=0.000632925, lyapunov_max=0.237375,
        lyapunov_spectrum=[0.242857, -0.000616872, -1.21698],
        kaplan_yorke=2.19861, correlation_dimension=1.93334,
        multiscale_entropy=0.73884, pesin_entropy=0.242875,
        mean=[-1.67311, 0.000505809, 0.00976471], std=[1.01011, 1.59315, 3.38513]),
    'Blasius': dict(
        params={'a': 1.0, 'alpha1': 0.2, 'alpha2': 1.0, 'b': 1.0, 'c': 10.0, 'k1': 0.05, 'k2': 0.0, 'zs': 0.006},
        ic=[4.03171, 5.11138, 0.0165088],
        period=6.6038, dt=0.00132098, lyapunov_max=0.125973,
        lyapunov_spectrum=[0.0471276, 0.00180314, -2.93627],
        kaplan_yorke=2.01666, correlation_dimension=1.68717,
        multiscale_entropy=0.591732, pesin_entropy=0.0489307,
        mean=[7.81228, 6.90924, 0.0917736], std=[2.9053, 2.57922, 0.184169]),
    'Bouali': dict(
        params={'a': 1.0, 'b': -0.3, 'bb': 1.0, 'c': 0.05, 'g': 1.0, 'm': 1.0, 'y0': 4.0},
        ic=[0.386732, 3.05442, -0.00678362],
        period=3.0411, dt=0.000608321, lyapunov_max=0.0601256,
        lyapunov_spectrum=[0.0491127, 0.000686965, -0.221718],
        kaplan_yorke=2.22473, correlation_dimension=1.72838,
        multiscale_entropy=0.750556, pesin_entropy=0.049816,
        mean=[-0.208977, 3.91559, -0.423227], std=[0.98039, 1.66367, 2.3971]),
    'Bouali2': dict(
        params={'a': 3.0, 'b': 2.2, 'bb': 0.0, 'c': 0.0, 'g': 1.0, 'm': -0.0026667, 'y0': 1.0},
        ic=[-0.793923, 1.36176, -0.0305789],
        period=7.6779, dt=0.000535669, lyapunov_max=0.0768173,
        lyapunov_spectrum=[0.0203892, 0.00334554, -0.00960277],
        kaplan_yorke=16.4719, correlation_dimension=1.92506,
        multiscale_entropy=0.452001, pesin_entropy=0.0243994,
        mean=[-0.131423, 0.998077, -0.0607122], std=[0.991182, 0.501381, 0.0142457]),
    'BurkeShaw': dict(
        params={'e': 13.0, 'n': 10.0},
        ic=[-0.791532, 0.652445, 0.225178],
        period=0.78333, dt=0.000156692, lyapunov_max=2.3246,
        lyapunov_spectrum=[2.34536, 0.0270565, -11.2253],
        kaplan_yorke=2.21134, correlation_dimension=2.05382,
        multiscale_entropy=0.906432, pesin_entropy=2.37241,
        mean=[-0.10558, 0.0839974, -0.230354], std=[1.13994, 1.73104, 1.91823]),
    'Chen': dict(
        params={'a': 35.0, 'b': 3.0, 'c': 28.0},
        ic=[3.26897, 5.29905, 19.4353],
        period=0.58689, dt=0.000117398, lyapunov_max=2.00596,
        lyapunov_spectrum=[2.04712, -0.0503135, -11.8418],
        kaplan_yorke=2.16862, correlation_dimension=2.0804,
        multiscale_entropy=0.760453, pesin_entropy=2.04731,
        mean=[-0.134027, -0.140928, 23.5267], std=[8.36014, 8.89349, 5.13486]),
    'ChenLee': dict(
        params={'a': 5.0, 'b': -10.0, 'c': -0.38},
        ic=[0.171771, 0.103605, 6.25539],
        period=2.8043, dt=0.000560953, lyapunov_max=0.163631,
        lyapunov_spectrum=[0.164606, 0.000182258, -5.48533],
        kaplan_yorke=2.03004, correlation_dimension=1.22794,
        multiscale_entropy=0.622433, pesin_entropy=0.164789,
        mean=[0.21025, 0.131799, 8.16339], std=[4.19586, 2.96772, 3.05981]),
    'Chua': dict(
        params={'alpha': 15.6, 'beta': 28.0, 'm0': -1.14286, 'm1': -0.71429},
        ic=[1.12624, -0.113865, -0.783244],
        period=1.4235, dt=0.000284747, lyapunov_max=1.23012,
        lyapunov_spectrum=[0.460547, 0.00220483, -4.31908],
        kaplan_yorke=2.10727, correlation_dimension=1.79877,
        multiscale_entropy=1.26935, pesin_entropy=0.464571,
        mean=[0.205699, 5.36029e-05, -0.223561], std=[1.43553, 0.177554, 1.80127]),
    'Coullet': dict(
        params={'a': -0.8, 'b': 1.1, 'c': 0.45, 'd': -1.0},
        ic=[0.345398, 0.42847, 0.0869837],
        period=5.7663, dt=0.00115345, lyapunov_max=0.137188,
        lyapunov_spectrum=[0.148907, -6.50489e-05, -0.587366],
        kaplan_yorke=2.25299, correlation_dimension=2.09224,
        multiscale_entropy=0.905508, pesin_entropy=0.149198,
        mean=[0.0539264, -0.0230487, -0.0143929], std=[0.726154, 0.451056, 0.468635]),
    'Dadras': dict(
        params={'c': 2.0, 'e': 9.0, 'o': 2.7, 'p': 3.0, 'r': 1.7},
        ic=[1.02841, -3.53487, -0.720816],
        period=3.2886, dt=0.00065783, lyapunov_max=0.405915,
        lyapunov_spectrum=[0.473442, 0.00645627, -11.1577],
        kaplan_yorke=2.04301, correlation_dimension=1.60506,
        multiscale_entropy=0.853798, pesin_entropy=0.479899,
        mean=[1.16079, -0.340922, 0.248705], std=[3.29181, 2.60991, 1.69005]),
    'DequanLi': dict(
        params={'a': 40.0, 'c': 1.833, 'd': 0.16, 'eps': 0.65, 'f': 20.0, 'k': 55.0},
        ic=[-11.3957, -104.126, 202.462],
        period=0.083806, dt=1.6764e-05, lyapunov_max=0.739748,
        lyapunov_spectrum=[1.8602, 0.0986643, -2.86719],
        kaplan_yorke=2.68486, correlation_dimension=1.93262,
        multiscale_entropy=0.831937, pesin_entropy=1.95886,
        mean=[-46.3441, -32.2134, 75.8383], std=[50.2158, 70.5342, 66.5669]),
    'Finance': dict(
        params={'a': 0.001, 'b': 0.2, 'c': 1.1},
        ic=[-0.516647, -3.95687, 0.00128936],
        period=9.8932, dt=0.00197897, lyapunov_max=0.0935411,
        lyapunov_spectrum=[0.107086, 0.00098358, -0.627953],
        kaplan_yorke=2.17204, correlation_dimension=1.92228,
        multiscale_entropy=0.781786, pesin_entropy=0.108449,
        mean=[-0.0703079, -4.24919, 0.0604546], std=[0.922347, 0.732614, 0.694463]),
    'GenesioTesi': dict(
        params={'a': 0.44, 'b': 1.1, 'c': 1.0},
        ic=[-0.0537726, -0.261626, 0.335016],
        period=5.9431, dt=0.00118882, lyapunov_max=0.105091,
        lyapunov_spectrum=[0.0997438, 0.000381467, -0.528223],
        kaplan_yorke=2.18925, correlation_dimension=1.94741,
        multiscale_entropy=0.700358, pesin_entropy=0.100275,
        mean=[0.231759, -0.00186112, -0.00412116], std=[0.417553, 0.413567, 0.433121]),
    'Hadley': dict(
        params={'a': 0.2, 'b': 4.0, 'f': 9.0, 'g': 1.0},
        ic=[1.36644, 0.930915, 0.642834],
        period=1.4541, dt=0.000290868, lyapunov_max=0.238659,
        lyapunov_spectrum=[0.311661, -0.00108388, -0.427393],
        kaplan_yorke=2.72738, correlation_dimension=2.02966,
        multiscale_entropy=0.935139, pesin_entropy=0.31445,
        mean=[1.06735, -0.102122, 0.332199], std=[0.429793, 0.83534, 0.870689]),
    'Halvorsen': dict(
        params={'a': 1.4, 'b': 4.0},
        ic=[-8.68074, -2.47414, 0.0707758],
        period=1.4889, dt=0.00029783, lyapunov_max=0.696371,
        lyapunov_spectrum=[0.586197, -0.0319539, -4.68763],
        kaplan_yorke=2.11824, correlation_dimension=1.88424,
        multiscale_entropy=0.752783, pesin_entropy=0.586197,
        mean=[-3.18452, -3.36106, -2.76197], std=[4.50531, 4.18445, 4.51536]),
    'HindmarshRose': dict(
        params={'a': 0.49, 'b': 1.0, 'c': 0.0322, 'd': 1.0, 's': 1.0, 'tx': 0.03, 'tz': 0.8},
        ic=[0.0311118, -0.0215571, 0.041475],
        period=1.752, dt=0.000350458, lyapunov_max=0.653539,
        lyapunov_spectrum=[0.262146, 0.00177054, -6.51066],
        kaplan_yorke=2.04054, correlation_dimension=1.64603,
        multiscale_entropy=0.869261, pesin_entropy=0.263917,
        mean=[0.00297334, -0.105957, 0.0289079], std=[0.326498, 0.148145, 0.118027]),
    'IsothermalChemical': dict(
        params={'delta': 1.0, 'kappa': 2.5, 'mu': 0.29786, 'sigma': 0.013},
        ic=[0.514151, 0.998429, 1.00618],
        period=0.73028, dt=0.00014608, lyapunov_max=0.450091,
        lyapunov_spectrum=[0.336587, -0.0513653, -7.39254],
        kaplan_yorke=2.03858, correlation_dimension=1.09034,
        multiscale_entropy=0.658942, pesin_entropy=0.336587,
        mean=[0.453585, 1.07184, 1.0616], std=[0.056991, 0.510113, 0.0561575]),
    'JerkCircuit': dict(
        params={'eps': 1e-09, 'y0': 0.026},
        ic=[-1.30088, 0.0653829, 0.918019],
        period=19.4546, dt=0.00389157, lyapunov_max=0.292272,
        lyapunov_spectrum=[0.394873, 0.184903, -1.14074],
        kaplan_yorke=2.50824, correlation_dimension=1.83682,
        multiscale_entropy=0.381399, pesin_entropy=0.579776,
        mean=[-0.393383, 0.0010185, 0.00295349], std=[0.713319, 0.481345, 0.483781]),
    'Laser': dict(
        params={'a': 10.0, 'b': 1.0, 'c': 5.0, 'd': -1.0, 'h': -5.0, 'k': -6.0},
        ic=[-2.5408, -1.94057, -2.9681],
        period=0.94667, dt=0.000189366, lyapunov_max=0.60806,
        lyapunov_spectrum=[0.763744, 0.0209433, -15.9095],
        kaplan_yorke=2.04932, correlation_dimension=1.71911,
        multiscale_entropy=1.00444, pesin_entropy=0.784831,
        mean=[0.2483, 0.295296, -1.92038], std=[1.24197, 1.05408, 1.42531]),
    'LiuChen': dict(
        params={'a': 0.4, 'b': 12.0, 'c': -5.0, 'h': 0.0, 'p': 0.0, 'q': -1.0, 'r': 1.0, 's': 1.0},
        ic=[4.67228, 5.24372e-10, -6.44442e-10],
        period=8.0164, dt=0.00160355, lyapunov_max=0.245708,
        lyapunov_spectrum=[0.213321, -0.9749, -18.8071],
        kaplan_yorke=1.21881, correlation_dimension=1.06019,
        multiscale_entropy=0.764147, pesin_entropy=0.213321,
        mean=[-0.0242239, -0.0154325, -0.771514], std=[9.71349, 1.7765, 2.6419]),
    'Lorenz': dict(
        params={'beta': 2.667, 'rho': 28.0, 'sigma': 10.0},
        ic=[-9.78693, -15.0385, 20.534],
        period=1.5008, dt=0.00030021, lyapunov_max=0.89171,
        lyapunov_spectrum=[1.09109, 0.0299412, -14.9156],
        kaplan_yorke=2.07516, correlation_dimension=1.99393,
        multiscale_entropy=1.15415, pesin_entropy=1.12103,
        mean=[-0.447137, -0.312509, 23.546], std=[7.90623, 8.99934, 8.57949]),
    'Lorenz84': dict(
        params={'a': 1.32, 'b': 7.91, 'f': 4.83, 'g': 4.194},
        ic=[1.92648, -0.134021, -1.72147],
        period=6.2586, dt=0.00125193, lyapunov_max=0.461467,
        lyapunov_spectrum=[1.04748, -0.045398, -2.25199],
        kaplan_yorke=2.44498, correlation_dimension=1.86677,
        multiscale_entropy=0.66858, pesin_entropy=1.04748,
        mean=[0.419472, 1.02061, 0.211179], std=[0.821388, 1.3201, 1.73548]),
    'LuChen': dict(
        params={'a': 36.0, 'b': 3.0, 'c': 18.0},
        ic=[10.9565, 9.88131, 22.6767],
        period=2.3385, dt=0.000467778, lyapunov_max=0.326687,
        lyapunov_spectrum=[0.665185, 0.145034, -22.57],
        kaplan_yorke=2.0359, correlation_dimension=1.37279,
        multiscale_entropy=0.44839, pesin_entropy=0.810218,
        mean=[-0.114539, -0.115735, 17.3843], std=[7.22411, 7.41399, 5.25586]),
    'LuChenCheng': dict(
        params={'a': -10.0, 'b': -4.0, 'c': 18.1},
        ic=[-5.51776, 2.49906, 10.4618],
        period=0.92333, dt=0.000184697, lyapunov_max=0.261278,
        lyapunov_spectrum=[0.351062, -0.0124144, -11.5565],
        kaplan_yorke=2.0293, correlation_dimension=1.7226,
        multiscale_entropy=0.602976, pesin_entropy=0.351062,
        mean=[4.31701, 2.26207, 7.35175], std=[7.86647, 5.07398, 4.81492]),
    'MooreSpiegel': dict(
        params={'a': 10.0, 'b': 4.0, 'eps': 9.0},
        ic=[-3.47333, 19.667, -3.82625],
        period=1.2887, dt=0.000257783, lyapunov_max=0.697662,
        lyapunov_spectrum=[0.407435, -0.02208, -1.19758],
        kaplan_yorke=2.32177, correlation_dimension=1.84664,
        multiscale_entropy=0.540195, pesin_entropy=0.407633,
        mean=[0.0405485, 0.220682, -0.00962312], std=[3.94514, 25.058, 29.1895]),
    'NewtonLiepnik': dict(
        params={'a': 0.4, 'b': 0.175},
        ic=[0.294308, 0.106495, 0.290811],
        period=8.5095, dt=0.00170218, lyapunov_max=0.149453,
        lyapunov_spectrum=[0.172356, -0.000369767, -0.779579],
        kaplan_yorke=2.22061, correlation_dimension=2.00516,
        multiscale_entropy=0.632292, pesin_entropy=0.172426,
        mean=[-0.00738182, -0.00363775, 0.231485], std=[0.275567, 0.0844021, 0.0925683]),
    'NoseHoover': dict(
        params={'a': 1.5},
        ic=[-1.97586, 0.246475, 0.790243],
        period=5.8673, dt=0.00117366, lyapunov_max=0.0104644,
        lyapunov_spectrum=[0.0475701, 0.00138445, -0.0116538],
        kaplan_yorke=6.2132, correlation_dimension=1.96241,
        multiscale_entropy=0.565607, pesin_entropy=0.0489546,
        mean=[-0.505678, 0.0054033, 0.00454014], std=[1.1041, 1.2398, 1.50775]),
    'PanXuZhou': dict(
        params={'a': 10.0, 'c': -2.6667, 'd': 0.0, 'eps': 0.0, 'f': 0.0, 'k': 16.0},
        ic=[-3.03806, -1.98052, 14.6567],
        period=1.7829, dt=0.000356639, lyapunov_max=0.613238,
        lyapunov_spectrum=[0.869739, 0.0160361, -13.7443],
        kaplan_yorke=2.06445, correlation_dimension=0.771527,
        multiscale_entropy=1.09932, pesin_entropy=0.885776,
        mean=[-3.49729, -3.47923, 13.6914], std=[4.91567, 5.5112, 5.61336]),
    'PehlivanWei': dict(
        params={},
        ic=[0.216656, 0.867105, 0.506279],
        period=3.74873, dt=0.000749872, lyapunov_max=0.104151,
        lyapunov_spectrum=[0.0951233, 0.00153233, -0.616862],
        kaplan_yorke=2.15636, correlation_dimension=1.72003,
        multiscale_entropy=0.654749, pesin_entropy=0.0966556,
        mean=[0.0383955, 0.0377788, -1.45355], std=[1.48948, 1.48928, 1.68856]),
    'QiChen': dict(
        params={'a': 38.0, 'b': 2.666, 'c': 80.0},
        ic=[17.4209, 5.54596, 78.8914],
        period=0.39179, dt=7.83711e-05, lyapunov_max=4.02757,
        lyapunov_spectrum=[3.88801, 0.133796, -43.836],
        kaplan_yorke=2.09175, correlation_dimension=1.83099,
        multiscale_entropy=0.846454, pesin_entropy=4.0218,
        mean=[3.52291, 1.1658, 79.2484], std=[25.6213, 9.75483, 9.42436]),
    'RabinovichFabrikant': dict(
        params={'a': 1.1, 'g': 0.87},
        ic=[-1.82073, 0.834409, 0.207825],
        period=2.3356, dt=0.000467198, lyapunov_max=0.254144,
        lyapunov_spectrum=[0.242336, 1.70685e-05, -0.671771],
        kaplan_yorke=2.36076, correlation_dimension=2.07813,
        multiscale_entropy=0.918934, pesin_entropy=0.242391,
        mean=[-1.14986, 1.03833, 0.605818], std=[0.374473, 0.695614, 0.329766]),
    'RayleighBenard': dict(
        params={'a': 30.0, 'b': 5.0, 'r': 18.0},
        ic=[-15.6606, -13.3202, 26.8794],
        period=0.91967, dt=0.000183965, lyapunov_max=1.81388,
        lyapunov_spectrum=[1.70983, 0.307625, -19.042],
        kaplan_yorke=2.10595, correlation_dimension=1.92182,
        multiscale_entropy=0.919052, pesin_entropy=2.01745,
        mean=[2.54396, 2.62882, 17.102], std=[8.9207, 9.41111, 7.21913]),
    'RikitakeDynamo': dict(
        params={'a': 1.0, 'mu': 1.0},
        ic=[-0.779156, -0.630224, 2.6712],
        period=5.8975, dt=0.0011797, lyapunov_max=0.131813,
        lyapunov_spectrum=[0.145712, 0.00072221, -2.1744],
        kaplan_yorke=2.06728, correlation_dimension=1.90565,
        multiscale_entropy=0.966447, pesin_entropy=0.146556,
        mean=[-0.693073, -0.361305, 1.75275], std=[1.12058, 0.781856, 1.08379]),
    'Rossler': dict(
        params={'a': 0.2, 'b': 0.2, 'c': 5.7},
        ic=[6.51344, 0.477201, 0.341643],
        period=5.9086, dt=0.00118192, lyapunov_max=0.150597,
        lyapunov_spectrum=[0.0763301, 0.00752248, -5.74102],
        kaplan_yorke=2.01461, correlation_dimension=1.79682,
        multiscale_entropy=0.605878, pesin_entropy=0.0838526,
        mean=[0.225129, -0.928839, 0.916095], std=[5.41222, 5.01548, 2.49677]),
    'Rucklidge': dict(
        params={'a': 2.0, 'b': 6.7},
        ic=[1.92572, 3.19238, 5.78297],
        period=6.0721, dt=0.00121462, lyapunov_max=0.193636,
        lyapunov_spectrum=[0.182864, -0.00390658, -3.21513],
        kaplan_yorke=2.05566, correlation_dimension=1.98245,
        multiscale_entropy=0.644182, pesin_entropy=0.182864,
        mean=[-0.00238672, 0.191241, 6.39026], std=[2.58097, 2.53398, 2.97111]),
    'Sakarya': dict(
        params={'a': -1.0, 'b': 1.0, 'c': 1.0, 'h': 1.0, 'p': 1.0, 'q': 0.4, 'r': 0.3, 's': 1.0},
        ic=[-2.8976, 3.8878, 3.07465],
        period=4.9844, dt=0.000997046, lyapunov_max=0.26501,
        lyapunov_spectrum=[0.308092, 0.00035292, -1.25847],
        kaplan_yorke=2.2451, correlation_dimension=2.0557,
        multiscale_entropy=0.608277, pesin_entropy=0.308445,
        mean=[-1.08013, -0.0619456, 2.8105], std=[7.97736, 3.63808, 3.01573]),
    'SaltonSea': dict(
        params={'a': 15.0, 'd': 8.3, 'k': 400.0, 'lam': 0.06, 'm': 15.5, 'mu': 3.4, 'r': 22.0, 'th': 10.0},
        ic=[231.925, 89.5119, 56.7538],
        period=0.96738, dt=0.000193508, lyapunov_max=1.07026,
        lyapunov_spectrum=[0.391445, -0.00375788, -4.59287],
        kaplan_yorke=2.08438, correlation_dimension=1.6993,
        multiscale_entropy=0.933527, pesin_entropy=0.391609,
        mean=[219.969, 85.8628, 55.8326], std=[66.5961, 36.4116, 8.53218]),
    'SanUmSrisuchinwong': dict(
        params={'a': 2.0},
        ic=[0.638781, 1.09019, 2.44798],
        period=7.4654, dt=0.00149333, lyapunov_max=0.260614,
        lyapunov_spectrum=[0.239139, -0.000291617, -1.22968],
        kaplan_yorke=2.19422, correlation_dimension=2.06752,
        multiscale_entropy=0.994754, pesin_entropy=0.239463,
        mean=[-0.11452, -0.136316, 0.319912], std=[0.980955, 1.25378, 2.05812]),
    'ShimizuMorioka': dict(
        params={'a': 0.85, 'b': 0.5},
        ic=[0.0168387, 0.0348938, 0.353468],
        period=12.038, dt=0.002408, lyapunov_max=0.0357743,
        lyapunov_spectrum=[0.0440322, -1.39425e-05, -1.40999],
        kaplan_yorke=2.03122, correlation_dimension=1.71685,
        multiscale_entropy=0.715656, pesin_entropy=0.0442394,
        mean=[0.0392838, -0.00239894, 0.855025], std=[0.654902, 0.308514, 0.561907]),
    'SprottA': dict(
        params={},
        ic=[1.54132, 1.4308, -1.52555],
        period=6.37285, dt=0.00127478, lyapunov_max=0.0129931,
        lyapunov_spectrum=[0.0292599, 0.00499016, -0.00155613],
        kaplan_yorke=60.6653, correlation_dimension=1.96422,
        multiscale_entropy=0.574827, pesin_entropy=0.0343008,
        mean=[0.109585, -0.0146125, -0.0389298], std=[0.966081, 0.978387, 1.05252]),
    'SprottB': dict(
        params={},
        ic=[1.68783, 1.48481, -0.537066],
        period=11.0501, dt=0.0022104, lyapunov_max=0.206743,
        lyapunov_spectrum=[0.219875, 0.00518744, -1.21458],
        kaplan_yorke=2.1853, correlation_dimension=1.93474,
        multiscale_entropy=0.882603, pesin_entropy=0.225062,
        mean=[-0.0723315, -0.0601718, -0.00749783], std=[1.41583, 0.99526, 1.7129]),
    'SprottC': dict(
        params={},
        ic=[-0.471998, -0.271981, 1.94182],
        period=8.8852, dt=0.00177734, lyapunov_max=0.158069,
        lyapunov_spectrum=[0.178984, -0.000730467, -1.16446],
        kaplan_yorke=2.15292, correlation_dimension=1.90368,
        multiscale_entropy=1.14839, pesin_entropy=0.179335,
        mean=[0.168172, 0.179553, 0.157415], std=[1.00246, 0.878041, 0.926011]),
    'SprottD': dict(
        params={},
        ic=[-1.33969, -0.212383, 0.329822],
        period=4.8333, dt=0.000966821, lyapunov_max=0.101709,
        lyapunov_spectrum=[0.114153, 0.001788, -1.46019],
        kaplan_yorke=2.08076, correlation_dimension=1.95001,
        multiscale_entropy=1.00303, pesin_entropy=0.115945,
        mean=[-1.23523, -0.00398883, 1.23392], std=[0.986404, 0.790245, 0.847672]),
    'SprottE': dict(
        params={},
        ic=[0.617376, 0.665993, -1.6575],
        period=7.6275, dt=0.00152575, lyapunov_max=0.0901607,
        lyapunov_spectrum=[0.0983447, -0.000310698, -1.09538],
        kaplan_yorke=2.08946, correlation_dimension=1.53195,
        multiscale_entropy=0.838789, pesin_entropy=0.0986631,
        mean=[0.23849, 0.313404, 1.70682], std=[0.505745, 0.325315, 2.17389]),
    'SprottF': dict(
        params={'a': 0.5},
        ic=[-0.989413, -1.41917, 0.857972],
        period=19.244, dt=0.00384944, lyapunov_max=0.118309,
        lyapunov_spectrum=[0.13246, 0.0192717, -0.603012],
        kaplan_yorke=2.25162, correlation_dimension=2.24857,
        multiscale_entropy=0.767431, pesin_entropy=0.151732,
        mean=[-0.396575, -0.785152, 0.787697], std=[0.793765, 0.895151, 0.767294]),
    'SprottG': dict(
        params={'a': 0.4},
        ic=[-0.771825, -0.747566, 1.30733],
        period=8.7097, dt=0.00174223, lyapunov_max=0.0906783,
        lyapunov_spectrum=[0.0334913, -0.00127494, -0.61822],
        kaplan_yorke=2.0519, correlation_dimension=1.4356,
        multiscale_entropy=0.618549, pesin_entropy=0.0340348,
        mean=[-0.39553, -0.395399, 0.159775], std=[0.911546, 0.648481, 0.936192]),
    'SprottH': dict(
        params={'a': 0.5},
        ic=[-1.36004, 0.625854, -1.27882],
        period=20.229, dt=0.00404647, lyapunov_max=0.131002,
        lyapunov_spectrum=[0.138718, 0.00350143, -0.588907],
        kaplan_yorke=2.2415, correlation_dimension=2.18419,
        multiscale_entropy=0.632536, pesin_entropy=0.142219,
        mean=[-0.484229, 0.994451, -0.485459], std=[1.1742, 1.35714, 0.870889]),
    'SprottI': dict(
        params={'a': 0.2},
        ic=[-0.0600994, -0.495584, 0.023159],
        period=10.93, dt=0.00218636, lyapunov_max=0.0232187,
        lyapunov_spectrum=[0.0204597, 9.47859e-06, -1.03151],
        kaplan_yorke=2.01984, correlation_dimension=1.58809,
        multiscale_entropy=0.589381, pesin_entropy=0.0207741,
        mean=[-0.111026, -0.00349464, 0.11105], std=[0.170426, 0.472677, 0.169998]),
    'SprottJ': dict(
        params={},
        ic=[4.47869, 2.29774, 6.58471],
        period=4.836, dt=0.000967361, lyapunov_max=0.122908,
        lyapunov_spectrum=[0.0445181, 0.00106212, -2.05584],
        kaplan_yorke=2.02215, correlation_dimension=1.76319,
        multiscale_entropy=0.635297, pesin_entropy=0.0458896,
        mean=[4.98571, 0.00584944, 0.013055], std=[8.78102, 2.23081, 5.46369]),
    'SprottJerk': dict(
        params={'mu': 2.017},
        ic=[-0.541061, 0.593832, 0.451272],
        period=11.921, dt=0.0023846, lyapunov_max=0.0878519,
        lyapunov_spectrum=[0.0673826, -0.000783191, -2.1347],
        kaplan_yorke=2.03119, correlation_dimension=1.14444,
        multiscale_entropy=0.531489, pesin_entropy=0.0677694,
        mean=[1.8093, 0.00169628, 0.0011003], std=[2.42019, 1.3459, 0.947645]),
    'SprottK': dict(
        params={'a': 0.3},
        ic=[-1.3165, -1.543, 0.664053],
        period=7.006, dt=0.00140143, lyapunov_max=0.0596259,
        lyapunov_spectrum=[0.0377826, -0.000510946, -0.893472],
        kaplan_yorke=2.0417, correlation_dimension=1.81778,
        multiscale_entropy=0.656281, pesin_entropy=0.0378816,
        mean=[-0.130925, -0.140802, 0.480603], std=[0.92841, 0.678381, 1.01639]),
    'SprottL': dict(
        params={'a': 0.9, 'b': 3.9},
        ic=[4.36116, 13.7056, -2.68357],
        period=6.7262, dt=0.00134546, lyapunov_max=0.092162,
        lyapunov_spectrum=[0.0340715, -0.000391472, -1.01296],
        kaplan_yorke=2.03298, correlation_dimension=1.41058,
        multiscale_entropy=0.560587, pesin_entropy=0.0343958,
        mean=[0.989643, 18.078, -4.65037], std=[4.38109, 7.03779, 2.8526]),
    'SprottM': dict(
        params={'a': 1.7},
        ic=[1.60244, -1.59832, -2.62364],
        period=5.3644, dt=0.00107306, lyapunov_max=0.0842204,
        lyapunov_spectrum=[0.0523012, -0.000330638, -1.03914],
        kaplan_yorke=2.04996, correlation_dimension=1.5502,
        multiscale_entropy=0.748118, pesin_entropy=0.0523452,
        mean=[0.135824, -1.87894, -0.0220969], std=[1.38506, 1.22151, 1.50898]),
    'SprottN': dict(
        params={},
        ic=[-8.32587, 7.30337, 3.27989],
        period=4.8135, dt=0.00096286, lyapunov_max=0.118696,
        lyapunov_spectrum=[0.0609586, 6.56021e-05, -2.10165],
        kaplan_yorke=2.02895, correlation_dimension=1.77982,
        multiscale_entropy=0.638522, pesin_entropy=0.0614783,
        mean=[-5.17783, -0.0135943, 0.495476], std=[8.79395, 5.43219, 2.2188]),
    'SprottO': dict(
        params={'a': 2.7},
        ic=[0.205495, 0.022793, 0.936369],
        period=9.755, dt=0.00195133, lyapunov_max=0.0914108,
        lyapunov_spectrum=[0.0668568, 0.0115333, -0.316544],
        kaplan_yorke=2.24746, correlation_dimension=1.71011,
        multiscale_entropy=0.416115, pesin_entropy=0.0783901,
        mean=[-0.271566, -1.20143e-05, -0.272435], std=[0.283309, 0.341761, 0.710213]),
    'SprottP': dict(
        params={'a': 2.7},
        ic=[0.834207, 0.149158, 0.440286],
        period=5.3414, dt=0.00106846, lyapunov_max=0.106468,
        lyapunov_spectrum=[0.102617, 0.000251363, -0.484355],
        kaplan_yorke=2.21222, correlation_dimension=1.98508,
        multiscale_entropy=0.84864, pesin_entropy=0.103294,
        mean=[0.216662, -0.214747, 0.563437], std=[0.549132, 0.399012, 0.522817]),
    'SprottQ': dict(
        params={'a': 3.1, 'b': 0.5},
        ic=[2.9781, -0.0652607, -2.80313],
        period=4.8443, dt=0.000969022, lyapunov_max=0.171698,
        lyapunov_spectrum=[0.136983, 0.00103867, -0.614052],
        kaplan_yorke=2.22469, correlation_dimension=1.83171,
        multiscale_entropy=0.810516, pesin_entropy=0.138522,
        mean=[-0.99755, -0.994838, 0.0472271], std=[2.2949, 1.45613, 3.33691]),
    'SprottR': dict(
        params={'a': 0.9, 'b': 0.4},
        ic=[-1.69149, -1.97837, 1.98078],
        period=7.0133, dt=0.00140289, lyapunov_max=0.0966142,
        lyapunov_spectrum=[0.0760848, 0.00136971, -1.0784],
        kaplan_yorke=2.07174, correlation_dimension=1.83134,
        multiscale_entropy=0.587717, pesin_entropy=0.078404,
        mean=[-0.450393, 0.890553, -0.391328], std=[2.04876, 1.94863, 2.51881]),
    'SprottS': dict(
        params={},
        ic=[0.126357, 0.122607, 1.22154],
        period=3.3505, dt=0.000670212, lyapunov_max=0.273763,
        lyapunov_spectrum=[0.214931, 0.00301944, -1.19453],
        kaplan_yorke=2.18239, correlation_dimension=1.90983,
        multiscale_entropy=0.66904, pesin_entropy=0.218769,
        mean=[-1.07424, 0.280613, 0.505837], std=[1.49665, 0.838878, 0.889063]),
    'SprottTorus': dict(
        params={},
        ic=[0.688348, -0.180176, 0.585397],
        period=13.607, dt=0.00272185, lyapunov_max=0.105696,
        lyapunov_spectrum=[0.296561, 0.000546882, -0.391085],
        kaplan_yorke=2.75969, correlation_dimension=1.05643,
        multiscale_entropy=0.95629, pesin_entropy=0.297109,
        mean=[0.494652, -0.0760526, 0.105213], std=[0.350325, 0.365781, 0.908837]),
    'Thomas': dict(
        params={'a': 1.85, 'b': 10.0},
        ic=[2.19944, 2.36342, 3.2202],
        period=4.969, dt=0.000993966, lyapunov_max=0.632405,
        lyapunov_spectrum=[0.758969, 0.0573553, -6.42195],
        kaplan_yorke=2.12711, correlation_dimension=1.64883,
        multiscale_entropy=0.992195, pesin_entropy=0.816324,
        mean=[0.599224, 0.533084, 0.495352], std=[2.13768, 2.21613, 2.24315]),
    'ThomasLabyrinth': dict(
        params={'a': 0.5, 'b': 10.0},
        ic=[-4.95995, 1.0302, -4.68839],
        period=6.05, dt=0.0012102, lyapunov_max=1.39086,
        lyapunov_spectrum=[1.33878, 0.00497045, -2.84674],
        kaplan_yorke=2.47203, correlation_dimension=2.15003,
        multiscale_entropy=1.30499, pesin_entropy=1.34376,
        mean=[-0.430369, 0.0656164, -1.11735], std=[3.7784, 4.35889, 3.95704]),
    'Tsucs2': dict(
        params={'a': 40.0, 'c': 0.833, 'd': 0.5, 'eps': 0.65, 'f': 20.0, 'k': 0.0},
        ic=[1.29699, 1.12138, 50.029],
        period=0.34526, dt=6.90635e-05, lyapunov_max=0.136215,
        lyapunov_spectrum=[0.6414, -0.224095, -1.32331],
        kaplan_yorke=2.31535, correlation_dimension=1.47382,
        multiscale_entropy=0.391363, pesin_entropy=0.6414,
        mean=[0.522446, 0.117372, 38.7251], std=[19.1156, 19.1729, 22.6453]),
    'VallisElNino': dict(
        params={'b': 102.0, 'c': 3.0, 'p': 0.0},
        ic=[-6.99286, 0.0232543, -0.165818],
        period=2.2087, dt=0.000441814, lyapunov_max=0.547759,
        lyapunov_spectrum=[0.656157, 0.0226892, -5.63327],
        kaplan_yorke=2.12051, correlation_dimension=1.31124,
        multiscale_entropy=0.905871, pesin_entropy=0.678846,
        mean=[0.925821, 0.0286389, 0.132824], std=[5.30728, 0.233917, 0.238062]),
    'WangSun': dict(
        params={'a': 0.2, 'b': -0.01, 'd': -0.4, 'e': -1.0, 'f': -1.0, 'q': 1.0},
        ic=[-0.547708, 0.738765, -0.00492845],
        period=26.958, dt=0.0053925, lyapunov_max=0.0673546,
        lyapunov_spectrum=[0.0799087, -0.00104392, -1.32408],
        kaplan_yorke=2.05956, correlation_dimension=1.78101,
        multiscale_entropy=0.904542, pesin_entropy=0.0799433,
        mean=[0.0205704, 0.312897, 0.000516778], std=[0.758564, 0.439173, 0.340026]),
    'YuWang': dict(
        params={'a': 10.0, 'b': 40.0, 'c': 2.0, 'd': 2.5},
        ic=[-0.214224, -0.179355, 14.1055],
        period=1.3366, dt=0.000267365, lyapunov_max=1.85255,
        lyapunov_spectrum=[2.45988, -0.0729792, -14.0099],
        kaplan_yorke=2.17037, correlation_dimension=1.85588,
        multiscale_entropy=0.634038, pesin_entropy=2.45988,
        mean=[-0.0660385, -0.0583771, 20.2189], std=[1.08983, 1.54012, 9.12428]),
    'ZhouChen': dict(
        params={'a': 2.97, 'b': 0.15, 'c': -3.0, 'd': 1.0, 'e': -8.78},
        ic=[-0.603902, 0.012112, 0.000832779],
        period=0.87518, dt=0.000175065, lyapunov_max=0.6828,
        lyapunov_spectrum=[0.591726, 0.00520395, -12.9992],
        kaplan_yorke=2.04592, correlation_dimension=1.62122,
        multiscale_entropy=0.73379, pesin_entropy=0.596973,
        mean=[-1.35878, 7.6016, -0.674571], std=[10.2395, 13.3306, 5.97782]),
    'HyperBao': dict(
        params={'a': 36.0, 'b': 3.0, 'c': 20.0, 'd': 0.1, 'e': 21.0},
        ic=[9.27131, 9.75225, 23.9192, -16.6968],
        period=0.583151, dt=0.00011665, lyapunov_max=0.794193,
        lyapunov_spectrum=[0.695974, 0.207669, 0.0164677, -19.9837],
        kaplan_yorke=3.04604, correlation_dimension=1.90313,
        multiscale_entropy=0.891022, pesin_entropy=0.920111,
        mean=[0.0923286, -0.224919, 20.7728, 8.62116], std=[7.79589, 8.32092, 6.49152, 31.3449]),
    'HyperCai': dict(
        params={'a': 27.5, 'b': 3.0, 'c': 19.3, 'd': 2.9, 'e': 3.3},
        ic=[-10.6913, -15.5412, 18.3883, -14.9045],
        period=0.611394, dt=0.000122299, lyapunov_max=1.67776,
        lyapunov_spectrum=[1.63444, 0.128455, -0.00332869, -12.7476],
        kaplan_yorke=3.13803, correlation_dimension=2.37751,
        multiscale_entropy=1.11554, pesin_entropy=1.7629,
        mean=[0.674007, 0.775039, 23.0422, -15.3314], std=[7.79337, 8.25238, 5.3731, 7.81218]),
    'HyperJha': dict(
        params={'a': 10.0, 'b': 28.0, 'c': 2.667, 'd': 1.3},
        ic=[13.7654, 20.2038, 32.0818, -51.1893],
        period=0.856447, dt=0.000171318, lyapunov_max=0.386954,
        lyapunov_spectrum=[0.39495, 0.292021, 0.00556843, -13.0221],
        kaplan_yorke=3.05318, correlation_dimension=2.2954,
        multiscale_entropy=0.893417, pesin_entropy=0.69254,
        mean=[0.0447209, -0.0853414, 24.1726, 1.39179], std=[9.78897, 8.6332, 8.01861, 73.3734]),
    'HyperLorenz': dict(
        params={'a': 10.0, 'b': 2.667, 'c': 28.0, 'd': 1.1},
        ic=[-9.18607, -0.674457, 16.4405, -145.024],
        period=1.27755, dt=0.000255552, lyapunov_max=0.328881,
        lyapunov_spectrum=[0.292564, 0.246916, 0.0470443, -13.1184],
        kaplan_yorke=3.04471, correlation_dimension=2.3257,
        multiscale_entropy=0.802646, pesin_entropy=0.586524,
        mean=[-1.21809, 0.457427, 24.3549, -15.9609], std=[9.4578, 8.58436, 7.93477, 62.6378]),
    'HyperLu': dict(
        params={'a': 36.0, 'b': 3.0, 'c': 20.0, 'd': 1.3},
        ic=[8.11349, 10.5566, 18.4459, -28.3815],
        period=0.716286, dt=0.000143281, lyapunov_max=1.04296,
        lyapunov_spectrum=[1.08558, 0.475385, 0.0284995, -19.3138],
        kaplan_yorke=3.08229, correlation_dimension=2.34374,
        multiscale_entropy=1.04558, pesin_entropy=1.58946,
        mean=[-0.513633, -1.13293, 22.1287, 22.0065], std=[7.89183, 8.70953, 5.46726, 43.6467]),
    'HyperPang': dict(
        params={'a': 36.0, 'b': 3.0, 'c': 20.0, 'd': 2.0},
        ic=[8.40864, 4.6721, 27.9103, -1.26301],
        period=0.843937, dt=0.000168816, lyapunov_max=1.44653,
        lyapunov_spectrum=[1.58693, 0.284442, -0.00115413, -21.0077],
        kaplan_yorke=3.08902, correlation_dimension=2.40944,
        multiscale_entropy=0.917216, pesin_entropy=1.87191,
        mean=[-0.15228, -0.163357, 20.1474, 7.88311], std=[7.72791, 7.96766, 4.99467, 6.05465]),
    'HyperQi': dict(
        params={'a': 50.0, 'b': 24.0, 'c': 13.0, 'd': 8.0, 'e': 33.0, 'f': 30.0},
        ic=[11.2509, -3.64708, 50.1699, -168.249],
        period=0.0618604, dt=1.23741e-05, lyapunov_max=12.7872,
        lyapunov_spectrum=[13.9088, 2.852, -0.049579, -59.3276],
        kaplan_yorke=3.28168, correlation_dimension=2.06785,
        multiscale_entropy=0.998844, pesin_entropy=16.7608,
        mean=[-6.50847, -0.316603, -9.69813, 29.7646], std=[46.6147, 44.9331, 84.0569, 102.266]),
    'HyperRossler': dict(
        params={'a': 0.25, 'b': 3.0, 'c': 0.5, 'd': 0.05},
        ic=[-93.6677, 15.5078, 0.032087, 43.7928],
        period=1.11575, dt=0.000223187, lyapunov_max=0.171885,
        lyapunov_spectrum=[0.278592, -7.7492e-05, -0.301466, -70.2661],
        kaplan_yorke=2.91638, correlation_dimension=1.8919,
        multiscale_entropy=0.914475, pesin_entropy=0.27897,
        mean=[-36.3251, -13.2384, 6.0665, 39.0338], std=[32.0825, 28.2237, 22.517, 5.94564]),
    'HyperWang': dict(
        params={'a': 10.0, 'b': 40.0, 'c': 2.5, 'd': 10.6, 'e': 4.0},
        ic=[0.168249, 0.168541, 37.0403, -15.2903],
        period=0.648152, dt=0.000129652, lyapunov_max=1.29301,
        lyapunov_spectrum=[1.2224, 0.258276, -0.00755121, -13.9869],
        kaplan_yorke=3.10532, correlation_dimension=2.38403,
        multiscale_entropy=0.996926, pesin_entropy=1.48068,
        mean=[-0.0270451, 0.0272276, 44.8426, 1.84248], std=[5.2971, 7.58619, 15.8513, 13.7415]),
    'HyperXu': dict(
        params={'a': 10.0, 'b': 40.0, 'c': 2.5, 'd': 2.0, 'e': 16.0},
        ic=[0.689445, -0.602541, -0.581466, 0.266293],
        period=1.13282, dt=0.000226601, lyapunov_max=0.981983,
        lyapunov_spectrum=[1.04201, 0.207178, -0.00339881, -13.6979],
        kaplan_yorke=3.09095, correlation_dimension=2.30571,
        multiscale_entropy=0.931232, pesin_entropy=1.24919,
        mean=[-0.0128945, -0.754762, -2.311, 7.41161], std=[2.41992, 2.90392, 0.696315, 5.69497]),
    'HyperYan': dict(
        params={'a': 37.0, 'b': 3.0, 'c': 26.0, 'd': 38.0},
        ic=[-6.57662, -4.61715, 17.7965, 0.807236],
        period=0.912703, dt=0.000182571, lyapunov_max=1.3946,
        lyapunov_spectrum=[0.912035, 0.153033, -14.9774, -39.3637],
        kaplan_yorke=2.07111, correlation_dimension=1.71691,
        multiscale_entropy=0.816616, pesin_entropy=1.06507,
        mean=[1.70013, 1.70589, 17.9098, -0.190239], std=[6.66111, 7.0859, 9.19711, 1.69925]),
    'HyperYangChen': dict(
        params={'a': 30.0, 'b': 3.0, 'c': 35.0, 'd': 8.0},
        ic=[3.53446, 4.82853, 25.0492, 17.1185],
        period=0.912703, dt=0.000182571, lyapunov_max=0.420427,
        lyapunov_spectrum=[0.574269, 0.327365, 0.0235102, -34.7728],
        kaplan_yorke=3.02661, correlation_dimension=2.43948,
        multiscale_entropy=0.973032, pesin_entropy=0.925517,
        mean=[0.0964343, 0.1455, 32.3594, -2.33543], std=[9.92789, 10.4029, 9.55535, 17.9601]),
    'Lorenz96': dict(
        params={'f': 20.0},
        ic=[-2.46821, 0.0957026, 1.59271, 10.2137],
        period=2.1969, dt=0.000439453, lyapunov_max=1.33617,
        lyapunov_spectrum=[1.6247, 0.171852, -1.19363, -3.55046],
        kaplan_yorke=3.16982, correlation_dimension=2.25614,
        multiscale_entropy=0.804673, pesin_entropy=1.79655,
        mean=[2.64082, 2.8076, 2.78453, 3.02059], std=[7.03115, 6.85929, 6.76664, 7.02524]),
    'LorenzStenflo': dict(
        params={'a': 2.0, 'b': 0.7, 'c': 26.0, 'd': 1.5},
        ic=[4.23344, 9.08971, 21.8666, -1.40807],
        period=3.88771, dt=0.000777672, lyapunov_max=0.380774,
        lyapunov_spectrum=[0.449445, 0.0260775, -2.73584, -3.42133],
        kaplan_yorke=2.17381, correlation_dimension=2.11915,
        multiscale_entropy=1.02992, pesin_entropy=0.475522,
        mean=[-0.605624, -0.880262, 22.1226, 0.263818], std=[3.50611, 5.61083, 6.42232, 1.37267]),
    'Qi': dict(
        params={'a': 45.0, 'b': 10.0, 'c': 1.0, 'd': 10.0},
        ic=[0.256204, 0.195612, 7.25982, 1.31626],
        period=0.40821, dt=8.16556e-05, lyapunov_max=2.19161,
        lyapunov_spectrum=[2.03604, 0.132013, -4.34789, -44.356],
        kaplan_yorke=2.49865, correlation_dimension=1.89135,
        multiscale_entropy=0.885565, pesin_entropy=2.16806,
        mean=[-0.348085, -0.234151, 7.229, 2.01879], std=[1.96515, 1.52417, 0.577585, 1.06797]),
}


# ----------------------------------------------------------------------------------------------------
# Right-hand sides dx/dt = f(x; p). Each takes a state [D] and a mapping of scalar parameters.
# ----------------------------------------------------------------------------------------------------

def _v(*c):
    return jnp.stack(c)


def _aizawa(s, p):
    x, y, z = s
    return _v(x * z - p["b"] * x - p["d"] * y,
              p["d"] * x + y * z - p["b"] * y,
              p["c"] + p["a"] * z - z ** 3 / 3 - x ** 2 - y ** 2 - p["e"] * z * (x ** 2 + y ** 2)
              + p["f"] * z * x ** 3)


def _arneodo(s, p):  # also Coullet
    x, y, z = s
    return _v(y, z, -p["a"] * x - p["b"] * y - p["c"] * z + p["d"] * x ** 3)


def _blasius(s, p):
    x, y, z = s
    g1 = p["alpha1"] * x * y / (1 + p["k1"] * x)
    g2 = p["alpha2"] * y * z / (1 + p["k2"] * y)
    return _v(p["a"] * x - g1, -p["b"] * y + g1 - g2, -p["c"] * (z - p["zs"]) + g2)


def _bouali(s, p):  # Bouali and Bouali2
    x, y, z = s
    return _v(p["a"] * x * (p["y0"] - y) - p["b"] * z,
              p["g"] * y * (x ** 2 - 1),
              -1.5 * p["m"] * x + p["m"] * p["bb"] * x * z - p["c"] * z)


def _burke_shaw(s, p):
    x, y, z = s
    n = p["n"]
    return _v(-n * (x + y), y - n * x * z, n * x * y + p["e"])


def _chen(s, p):
    x, y, z = s
    a, b, c = p["a"], p["b"], p["c"]
    return _v(a * (y - x), (c - a) * x - x * z + c * y, x * y - b * z)


def _chen_lee(s, p):
    x, y, z = s
    return _v(p["a"] * x - y * z, p["b"] * y + x * z, p["c"] * z + x * y / 3)


def _chua(s, p):
    x, y, z = s
    g = p["m1"] * x + 0.5 * (p["m0"] - p["m1"]) * (jnp.abs(x + 1) - jnp.abs(x - 1))
    return _v(p["alpha"] * (y - x - g), x - y + z, -p["beta"] * y)


def _dadras(s, p):
    x, y, z = s
    return _v(y - p["p"] * x + p["o"] * y * z, p["r"] * y - x * z + z, p["c"] * x * y - p["e"] * z)


def _dequan_li(s, p):  # also PanXuZhou, Tsucs2
    x, y, z = s
    return _v(p["a"] * (y - x) + p["d"] * x * z,
              p["k"] * x + p["f"] * y - x * z,
              p["c"] * z + x * y - p["eps"] * x ** 2)


def _finance(s, p):
    x, y, z = s
    return _v((1 / p["b"] - p["a"]) * x + z + x * y, -p["b"] * y - x ** 2, -x - p["c"] * z)


def _genesio_tesi(s, p):
    x, y, z = s
    return _v(y, z, -p["c"] * x - p["b"] * y - p["a"] * z + x ** 2)


def _hadley(s, p):  # also Lorenz84 (same equations, different parameters)
    x, y, z = s
    return _v(-y ** 2 - z ** 2 - p["a"] * x + p["a"] * p["f"],
              x * y - p["b"] * x * z - y + p["g"],
              p["b"] * x * y + x * z - z)


def _halvorsen(s, p):
    x, y, z = s
    a, b = p["a"], p["b"]
    return _v(-a * x - b * (y + z) - y ** 2, -a * y - b * (z + x) - z ** 2, -a * z - b * (x + y) - x ** 2)


def _hindmarsh_rose(s, p):
    x, y, z = s
    tx, tz = p["tx"], p["tz"]
    return _v(-x + (y - p["a"] * x ** 3 + p["b"] * x ** 2 + z) / tx,
              -p["a"] * x ** 3 - (p["d"] - p["b"]) * x ** 2 + z,
              (-p["s"] * x - z + p["c"]) / tz)


def _isothermal_chemical(s, p):
    a, b, g = s
    return _v(p["mu"] * (p["kappa"] + g) - a * b ** 2 - a,
              (a * b ** 2 + a - b) / p["sigma"],
              (b - g) / p["delta"])


def _jerk_circuit(s, p):
    x, y, z = s
    return _v(y, z, -z - x - p["eps"] * (jnp.exp(y / p["y0"]) - 1))


def _laser(s, p):
    x, y, z = s
    return _v(p["a"] * (y - x) + p["b"] * y * z ** 2, p["c"] * x + p["d"] * x * z ** 2, p["h"] * z + p["k"] * x ** 2)


def _lorenz(s, p):
    x, y, z = s
    return _v(p["sigma"] * (y - x), p["rho"] * x - x * z - y, x * y - p["beta"] * z)


def _lu_chen(s, p):
    x, y, z = s
    return _v(p["a"] * (y - x), -x * z + p["c"] * y, x * y - p["b"] * z)


def _lu_chen_cheng(s, p):
    x, y, z = s
    a, b = p["a"], p["b"]
    return _v(-(a * b) / (a + b) * x - y * z + p["c"], a * y + x * z, b * z + x * y)


def _moore_spiegel(s, p):
    x, y, z = s
    return _v(y, p["a"] * z, -z + p["eps"] * y - y * x ** 2 - p["b"] * x)


def _newton_liepnik(s, p):
    x, y, z = s
    return _v(-p["a"] * x + y + 10 * y * z, -x - 0.4 * y + 5 * x * z, p["b"] * z - 5 * x * y)


def _nose_hoover(s, p):
    x, y, z = s
    return _v(y, -x + y * z, p["a"] - y ** 2)


def _pehlivan_wei(s, p):
    x, y, z = s
    return _v(y - y * z, y + y * z - 2 * x, 2 - x * y - y ** 2)


def _qi_chen(s, p):
    x, y, z = s
    return _v(p["a"] * (y - x) + y * z, p["c"] * x + y - x * z, x * y - p["b"] * z)


def _rabinovich_fabrikant(s, p):
    x, y, z = s
    g = p["g"]
    return _v(y * (z - 1 + x ** 2) + g * x, x * (3 * z + 1 - x ** 2) + g * y, -2 * z * (p["a"] + x * y))


def _rayleigh_benard(s, p):
    x, y, z = s
    return _v(p["a"] * (y - x), p["r"] * y - x * z, x * y - p["b"] * z)


def _rikitake(s, p):
    x, y, z = s
    return _v(-p["mu"] * x + y * z, -p["mu"] * y - p["a"] * x + x * z, 1 - x * y)


def _rossler(s, p):
    x, y, z = s
    return _v(-y - z, x + p["a"] * y, p["b"] + z * (x - p["c"]))


def _rucklidge(s, p):
    x, y, z = s
    return _v(-p["a"] * x + p["b"] * y - y * z, x, -z + y ** 2)


def _sakarya(s, p):  # also LiuChen
    x, y, z = s
    return _v(p["a"] * x + p["h"] * y + p["s"] * y * z,
              -p["b"] * y - p["p"] * x + p["q"] * x * z,
              p["c"] * z - p["r"] * x * y)


def _salton_sea(s, p):
    x, y, z = s
    sat = z / (y + p["a"])
    return _v(p["r"] * x * (1 - (x + y) / p["k"]) - p["lam"] * x * y,
              p["lam"] * x * y - p["m"] * y * sat - p["mu"] * y,
              p["th"] * y * sat - p["d"] * z)


def _san_um(s, p):
    x, y, z = s
    return _v(y - x, -z * jnp.tanh(x), -p["a"] + x * y + jnp.abs(y))


def _shimizu_morioka(s, p):
    x, y, z = s
    return _v(y, x - p["a"] * y - x * z, -p["b"] * z + x ** 2)


def _sprott_a(s, p):
    x, y, z = s
    return _v(y, -x + y * z, 1 - y ** 2)


def _sprott_b(s, p):
    x, y, z = s
    return _v(y * z, x - y, 1 - x * y)


def _sprott_c(s, p):
    x, y, z = s
    return _v(y * z, x - y, 1 - x ** 2)


def _sprott_d(s, p):
    x, y, z = s
    return _v(-y, x + z, x * z + 3 * y ** 2)


def _sprott_e(s, p):
    x, y, z = s
    return _v(y * z, x ** 2 - y, 1 - 4 * x)


def _sprott_f(s, p):
    x, y, z = s
    return _v(y + z, -x + p["a"] * y, x ** 2 - z)


def _sprott_g(s, p):
    x, y, z = s
    return _v(p["a"] * x + z, x * z - y, y - x)


def _sprott_h(s, p):
    x, y, z = s
    return _v(z ** 2 - y, x + p["a"] * y, x - z)


def _sprott_i(s, p):
    x, y, z = s
    return _v(-p["a"] * y, x + z, x + y ** 2 - z)


def _sprott_j(s, p):
    x, y, z = s
    return _v(2 * z, z - 2 * y, y ** 2 + y - x)


def _sprott_jerk(s, p):
    x, y, z = s
    return _v(y, z, y ** 2 - x - p["mu"] * z)


def _sprott_k(s, p):
    x, y, z = s
    return _v(x * y - z, x - y, x + p["a"] * z)


def _sprott_l(s, p):
    x, y, z = s
    return _v(y + p["b"] * z, p["a"] * x ** 2 - y, 1 - x)


def _sprott_m(s, p):
    x, y, z = s
    return _v(-z, -x ** 2 - y, p["a"] * (1 + x) + y)


def _sprott_n(s, p):
    x, y, z = s
    return _v(-2 * y, x + z ** 2, 1 + y - 2 * z)


def _sprott_o(s, p):
    x, y, z = s
    return _v(y, x - z, x + x * z + p["a"] * y)


def _sprott_p(s, p):
    x, y, z = s
    return _v(p["a"] * y + z, y ** 2 - x, x + y)


def _sprott_q(s, p):
    x, y, z = s
    return _v(-z, x - y, p["a"] * x + y ** 2 + p["b"] * z)


def _sprott_r(s, p):
    x, y, z = s
    return _v(p["a"] - y, p["b"] + z, x * y - z)


def _sprott_s(s, p):
    x, y, z = s
    return _v(-x - 4 * y, x + z ** 2, 1 + x)


def _sprott_torus(s, p):
    x, y, z = s
    return _v(y + 2 * x * y + x * z, 1 - 2 * x ** 2 + y * z, x - x ** 2 - y ** 2)


def _thomas(s, p):  # also ThomasLabyrinth
    x, y, z = s
    a, b = p["a"], p["b"]
    return _v(b * jnp.sin(y) - a * x, b * jnp.sin(z) - a * y, b * jnp.sin(x) - a * z)


def _vallis(s, p):
    x, y, z = s
    return _v(p["b"] * y - p["c"] * (x + p["p"]), x * z - y, 1 - z - x * y)


def _wang_sun(s, p):
    x, y, z = s
    return _v(p["a"] * x + p["q"] * y * z, p["b"] * x + p["d"] * y - x * z, p["e"] * z + p["f"] * x * y)


def _yu_wang(s, p):
    x, y, z = s
    return _v(p["a"] * (y - x), p["b"] * x - p["c"] * x * z, jnp.exp(x * y) - p["d"] * z)


def _zhou_chen(s, p):
    x, y, z = s
    return _v(p["a"] * x + p["b"] * y + y * z, p["c"] * y - x * z + p["d"] * y * z, p["e"] * z - x * y)


def _hyper_bao(s, p):
    x, y, z, w = s
    return _v(p["a"] * (y - x) + w, p["c"] * y - x * z, x * y - p["b"] * z, p["e"] * x + p["d"] * y * z)


def _hyper_cai(s, p):
    x, y, z, w = s
    return _v(p["a"] * (y - x), p["b"] * x + p["c"] * y - x * z + w, -p["d"] * z + y ** 2, -p["e"] * x)


def _hyper_jha(s, p):
    x, y, z, w = s
    return _v(p["a"] * (y - x) + w, p["b"] * x - x * z - y, x * y - p["c"] * z, p["d"] * w - x * z)


def _hyper_lorenz(s, p):
    x, y, z, w = s
    return _v(p["a"] * (y - x) + w, p["c"] * x - x * z - y, x * y - p["b"] * z, p["d"] * w - x * z)


def _hyper_lu(s, p):
    x, y, z, w = s
    return _v(p["a"] * (y - x) + w, p["c"] * y - x * z, x * y - p["b"] * z, p["d"] * w + x * z)


def _hyper_pang(s, p):
    x, y, z, w = s
    return _v(p["a"] * (y - x), p["c"] * y - x * z + w, x * y - p["b"] * z, -p["d"] * (x + y))


def _hyper_qi(s, p):
    x, y, z, w = s
    return _v(p["a"] * (y - x) + y * z, p["b"] * (x + y) - x * z,
              x * y - p["c"] * z - p["e"] * w, x * y - p["d"] * w + p["f"] * z)


def _hyper_rossler(s, p):
    x, y, z, w = s
    return _v(-y - z, x + p["a"] * y + w, p["b"] + x * z, p["d"] * w - p["c"] * z)


def _hyper_wang(s, p):
    x, y, z, w = s
    return _v(p["a"] * (y - x), p["b"] * x - x * z + w, p["e"] * x ** 2 - p["c"] * z, -p["d"] * x)


def _hyper_xu(s, p):
    x, y, z, w = s
    return _v(p["a"] * (y - x) + w, p["b"] * x + p["e"] * x * z, -p["c"] * z - x * y, x * z - p["d"] * y)


def _hyper_yan(s, p):
    x, y, z, w = s
    a, c = p["a"], p["c"]
    return _v(a * (y - x), (c - a) * x - x * z + c * y, x * y - y * z + x * z - p["b"] * z - w,
              y * z - x * z - p["d"] * w)


def _hyper_yang_chen(s, p):
    x, y, z, w = s
    return _v(p["a"] * (y - x), p["c"] * x - x * z + w, x * y - p["b"] * z, -p["d"] * x)


def _lorenz96(s, p):
    # dx_i/dt = (x_{i+1} - x_{i-2}) x_{i-1} - x_i + F, indices cyclic.
    return (jnp.roll(s, -1) - jnp.roll(s, 2)) * jnp.roll(s, 1) - s + p["f"]


def _lorenz_stenflo(s, p):
    x, y, z, w = s
    return _v(p["a"] * (y - x) + p["d"] * w, p["c"] * x - x * z - y, x * y - p["b"] * z, -x - p["a"] * w)


def _qi4(s, p):
    x, y, z, w = s
    return _v(p["a"] * (y - x) + y * z * w, p["b"] * (x + y) - x * z * w, x * y * w - p["c"] * z,
              x * y * z - p["d"] * w)


_RHS: dict[str, Callable] = {
    "Aizawa": _aizawa, "Arneodo": _arneodo, "Blasius": _blasius,
    "Bouali": _bouali, "Bouali2": _bouali, "BurkeShaw": _burke_shaw, "Chen": _chen, "ChenLee": _chen_lee,
    "Chua": _chua, "Coullet": _arneodo, "Dadras": _dadras, "DequanLi": _dequan_li, "Finance": _finance,
    "GenesioTesi": _genesio_tesi, "Hadley": _hadley, "Halvorsen": _halvorsen, "HindmarshRose": _hindmarsh_rose,
    "IsothermalChemical": _isothermal_chemical, "JerkCircuit": _jerk_circuit, "Laser": _laser,
    "LiuChen": _sakarya, "Lorenz": _lorenz, "Lorenz84": _hadley, "LuChen": _lu_chen,
    "LuChenCheng": _lu_chen_cheng, "MooreSpiegel": _moore_spiegel, "NewtonLiepnik": _newton_liepnik,
    "NoseHoover": _nose_hoover, "PanXuZhou": _dequan_li, "PehlivanWei": _pehlivan_wei, "QiChen": _qi_chen,
    "RabinovichFabrikant": _rabinovich_fabrikant, "RayleighBenard": _rayleigh_benard,
    "RikitakeDynamo": _rikitake, "Rossler": _rossler, "Rucklidge": _rucklidge, "Sakarya": _sakarya,
    "SaltonSea": _salton_sea, "SanUmSrisuchinwong": _san_um, "ShimizuMorioka": _shimizu_morioka,
    "SprottA": _sprott_a, "SprottB": _sprott_b, "SprottC": _sprott_c, "SprottD": _sprott_d,
    "SprottE": _sprott_e, "SprottF": _sprott_f, "SprottG": _sprott_g, "SprottH": _sprott_h,
    "SprottI": _sprott_i, "SprottJ": _sprott_j, "SprottJerk": _sprott_jerk, "SprottK": _sprott_k,
    "SprottL": _sprott_l, "SprottM": _sprott_m, "SprottN": _sprott_n, "SprottO": _sprott_o,
    "SprottP": _sprott_p, "SprottQ": _sprott_q, "SprottR": _sprott_r, "SprottS": _sprott_s,
    "SprottTorus": _sprott_torus, "Thomas": _thomas, "ThomasLabyrinth": _thomas, "Tsucs2": _dequan_li,
    "VallisElNino": _vallis, "WangSun": _wang_sun, "YuWang": _yu_wang, "ZhouChen": _zhou_chen,
    "HyperBao": _hyper_bao, "HyperCai": _hyper_cai, "HyperJha": _hyper_jha, "HyperLorenz": _hyper_lorenz,
    "HyperLu": _hyper_lu, "HyperPang": _hyper_pang, "HyperQi": _hyper_qi, "HyperRossler": _hyper_rossler,
    "HyperWang": _hyper_wang, "HyperXu": _hyper_xu, "HyperYan": _hyper_yan, "HyperYangChen": _hyper_yang_chen,
    "Lorenz96": _lorenz96, "LorenzStenflo": _lorenz_stenflo, "Qi": _qi4,
}


# ----------------------------------------------------------------------------------------------------
# The database
# ----------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class System:
    """One chaotic flow: equations, parameters and published metadata (dysts v0.96 table)."""
    name: str
    rhs: Callable  # (state [D], params mapping) -> [D]
    params: Mapping[str, float]
    ic: tuple  # a point on the attractor, [D]
    period: float  # dominant period T of the power spectrum (time units)
    dt: float  # published integration step
    lyapunov_max: float
    lyapunov_spectrum: tuple | None
    kaplan_yorke: float | None
    correlation_dimension: float | None
    multiscale_entropy: float | None
    pesin_entropy: float | None
    mean: tuple
    std: tuple
    min_steps_per_period: int = 0  # stiff systems: fewest RK4 steps per period for a stable integration

    @property
    def dim(self) -> int:
        return len(self.ic)

    @property
    def lyapunov_per_period(self) -> float:
        """Chaoticity in standardised time: lambda_max * T (e-foldings per dominant period)."""
        return self.lyapunov_max * self.period

    def param_arrays(self, dtype=None) -> dict:
        return {k: jnp.asarray(v, dtype=dtype) for k, v in self.params.items()}


def _build() -> dict[str, System]:
    out = {}
    for name, m in _METADATA.items():
        spec = m["lyapunov_spectrum"]
        out[name] = System(
            name=name, rhs=_RHS[name], params=dict(m["params"]), ic=tuple(m["ic"]), period=m["period"],
            dt=m["dt"], lyapunov_max=m["lyapunov_max"], lyapunov_spectrum=tuple(spec) if spec else None,
            kaplan_yorke=m["kaplan_yorke"], correlation_dimension=m["correlation_dimension"],
            multiscale_entropy=m["multiscale_entropy"], pesin_entropy=m["pesin_entropy"],
            mean=tuple(m["mean"]), std=tuple(m["std"]),
            min_steps_per_period=_MIN_STEPS_PER_PERIOD.get(name, 0))
    return out


# Stiff right-hand sides (exp(y / y0) with y0 = 0.026): explicit RK4 needs finer steps than the rest.
_MIN_STEPS_PER_PERIOD = {"JerkCircuit": 1000}


def substeps_for(name: str, pts_per_period: float, substeps: int) -> int:
    """RK4 steps per output interval: ``substeps``, raised to honour the system's min_steps_per_period."""
    need = get_system(name).min_steps_per_period
    return max(int(substeps), int(math.ceil(need / pts_per_period)))


SYSTEMS: dict[str, System] = _build()


def get_system(name: str) -> System:
    """The named system; KeyError lists the valid names."""
    if name not in SYSTEMS:
        raise KeyError(f"unknown chaotic system {name!r}; known: {sorted(SYSTEMS)}")
    return SYSTEMS[name]


def list_systems(dim: int | None = None) -> list[str]:
    """Sorted names of the systems (of dimension ``dim`` if given)."""
    return sorted(n for n, s in SYSTEMS.items() if dim is None or s.dim == dim)


# ----------------------------------------------------------------------------------------------------
# Integration in standardised time (units of the dominant period)
# ----------------------------------------------------------------------------------------------------

def vector_field(system: System | str, params: Mapping | None = None) -> Callable:
    """g(x) = T * f(x; p): the flow in standardised time s = t / T (one unit = one dominant period)."""
    system = get_system(system) if isinstance(system, str) else system
    p = system.params if params is None else params
    period = system.period

    def g(x):
        return period * system.rhs(x, p)
    return g


def rk4_step(g: Callable, x, h):
    """One classical Runge-Kutta-4 step of dx/ds = g(x) with step h; x: [D]."""
    k1 = g(x)
    k2 = g(x + 0.5 * h * k1)
    k3 = g(x + 0.5 * h * k2)
    k4 = g(x + h * k3)
    return x + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)


def _scan_trajectory(step_fns, x0s, n_points, substeps, noise_scales, hs, keys):
    """Fused scan over several systems. step_fns[s](x[B,D_s]) -> x, substeps[s] RK4 steps of size hs[s]
    per output point; returns a tuple of [B, N, D_s]."""

    def one_output(carry, key):
        new = []
        for s, (step, x) in enumerate(zip(step_fns, carry)):
            if noise_scales[s] is None:
                x, _ = jax.lax.scan(lambda x, _, step=step: (step(x), None), x, None, length=substeps[s])
            else:
                def sub(x, k, step=step, s=s):
                    x = step(x)
                    return x + noise_scales[s] * jnp.sqrt(hs[s]) * jax.random.normal(k, x.shape, x.dtype), None
                ks = jax.random.split(jax.random.fold_in(key, s), substeps[s])
                x, _ = jax.lax.scan(sub, x, ks)
            new.append(x)
        new = tuple(new)
        return new, new

    step_keys = jax.random.split(keys, n_points - 1)
    _, ys = jax.lax.scan(one_output, tuple(x0s), step_keys)
    return tuple(jnp.concatenate([x0[None], y], axis=0).swapaxes(0, 1) for x0, y in zip(x0s, ys))


@functools.partial(jax.jit, static_argnames=("names", "n_points", "pts_per_period", "substeps",
                                             "dynamical_noise"))
def _integrate_jit(names, ics, params, key, n_points, pts_per_period, substeps, dynamical_noise):
    step_fns, noise_scales, hs, subs = [], [], [], []
    for i, (name, p) in enumerate(zip(names, params)):
        sub = substeps_for(name, pts_per_period, substeps)
        h = 1.0 / (pts_per_period * sub)
        # parameters with a leading [B] axis are vmapped together with the initial conditions
        axes = {k: (0 if jnp.ndim(v) > 0 else None) for k, v in p.items()}
        vstep = jax.vmap(lambda x, q, name=name, h=h: rk4_step(vector_field(name, q), x, h), in_axes=(0, axes))
        step_fns.append(lambda x, vstep=vstep, p=p: vstep(x, p))
        std = jnp.asarray(get_system(name).std, ics[i].dtype)
        noise_scales.append(dynamical_noise * std if dynamical_noise > 0 else None)
        hs.append(h)
        subs.append(sub)
    return _scan_trajectory(step_fns, ics, n_points, subs, noise_scales, hs, key)


def integrate_systems(names: Sequence[str], ics: Sequence, n_points: int, *, pts_per_period: int = 100,
                      substeps: int = 5, params: Sequence[Mapping] | None = None,
                      dynamical_noise: float = 0.0, observation_noise: float = 0.0,
                      key=None, standardize: bool = False) -> tuple:
    """Integrates several systems in one fused, jitted scan.

    Args:
      names: system names (any dimensions).
      ics: one [B, D_s] array of initial conditions per system (the same B for all is not required).
      n_points: output points per trajectory (the first is the initial condition).
      pts_per_period: output points per dominant period (standardised granularity; paper: 100 fine,
        15 coarse). The output spacing is T / pts_per_period in time units.
      substeps: RK4 steps between output points (RK4 step = T / (pts_per_period * substeps)); raised
        per system to its ``min_steps_per_period`` (stiff systems).
      params: optional parameter mappings (leaves scalars, or [B] arrays to vmap over parameter sets).
      dynamical_noise: sigma of the additive Langevin forcing, in attractor-std units per sqrt(period).
      observation_noise: std of i.i.d. Gaussian noise added to the outputs, in attractor-std units.
      standardize: subtract the published attractor mean and divide by its std.
    Returns:
      tuple of [B, n_points, D_s] arrays.
    """
    names = tuple(names)
    ics = tuple(jnp.asarray(x) for x in ics)
    ics = tuple(x[None] if x.ndim == 1 else x for x in ics)
    if params is None:
        params = tuple(get_system(n).params for n in names)
    params = tuple({k: jnp.asarray(v, ic.dtype) for k, v in p.items()} for p, ic in zip(params, ics))
    key = jax.random.PRNGKey(0) if key is None else key
    trajs = _integrate_jit(names, ics, params, jax.random.fold_in(key, 1), n_points, pts_per_period,
                           substeps, float(dynamical_noise))
    out = []
    for i, (name, tr) in enumerate(zip(names, trajs)):
        sys_ = get_system(name)
        std = jnp.asarray(sys_.std, tr.dtype)
        if observation_noise > 0:
            k = jax.random.fold_in(jax.random.fold_in(key, 2), i)
            tr = tr + observation_noise * std * jax.random.normal(k, tr.shape, tr.dtype)
        if standardize:
            tr = (tr - jnp.asarray(sys_.mean, tr.dtype)) / std
        out.append(tr)
    return tuple(out)


def integrate(name: str, ics, n_points: int, **kwargs):
    """Trajectories of one system from a batch of initial conditions: ics [B, D] -> [B, n_points, D].

    Keyword arguments as in :func:`integrate_systems` (``params`` is a single mapping here).
    """
    if "params" in kwargs and kwargs["params"] is not None:
        kwargs["params"] = (kwargs["params"],)
    ics = jnp.asarray(ics)
    single = ics.ndim == 1
    (tr,) = integrate_systems((name,), (ics,), n_points, **kwargs)
    return tr[0] if single else tr


def make_trajectory(name: str, n_points: int, *, ic=None, pts_per_period: int = 100, substeps: int = 5,
                    **kwargs):
    """One trajectory [n_points, D] from the published initial condition (or ``ic``)."""
    sys_ = get_system(name)
    ic = jnp.asarray(sys_.ic if ic is None else ic)
    return integrate(name, ic, n_points, pts_per_period=pts_per_period, substeps=substeps, **kwargs)


def sample_initial_conditions(names: str | Sequence[str], key, n: int, *, spread: float = 1e-3,
                              spinup_periods: int = 10, pts_per_period: int = 10, substeps: int = 20,
                              dtype=jnp.float32):
    """n points on each attractor, from the published initial condition.

    Each of the n copies starts at the published IC plus a tiny perturbation (spread * std * N(0, 1)),
    is integrated for 2 * spinup_periods periods (one fused scan over all systems) and is read off at an
    independent uniformly random time in [spinup_periods, 2 * spinup_periods], so copies sit at
    different phases of the attractor even for weakly chaotic systems.

    Returns [n, D] for a single name, else a list of [n, D_s] arrays."""
    single = isinstance(names, str)
    names = (names,) if single else tuple(names)
    key_perturb, key_time = jax.random.split(key)
    ics = []
    for i, name in enumerate(names):
        sys_ = get_system(name)
        k = jax.random.fold_in(key_perturb, i)
        ics.append(jnp.asarray(sys_.ic, dtype)
                   + spread * jnp.asarray(sys_.std, dtype) * jax.random.normal(k, (n, sys_.dim), dtype))
    n_pts = 2 * spinup_periods * pts_per_period + 1
    out = integrate_systems(names, ics, n_pts, pts_per_period=pts_per_period, substeps=substeps)
    idx = jax.random.randint(key_time, (n,), spinup_periods * pts_per_period, n_pts)
    ends = [tr[jnp.arange(n), idx] for tr in out]
    return ends[0] if single else ends


# ----------------------------------------------------------------------------------------------------
# Timescale standardisation: dominant frequency of the power spectrum, resampling
# ----------------------------------------------------------------------------------------------------

def power_spectrum(x, dt: float):
    """One-sided periodogram (Hann window) of each coordinate after removing its mean and dividing by its
    std. x: [N, D] sampled with spacing dt. Returns (freqs [N//2+1], power [N//2+1, D]) as numpy arrays."""
    x = np.asarray(x, np.float64)
    x = (x - x.mean(0)) / (x.std(0) + 1e-12)
    power = np.abs(np.fft.rfft(x * np.hanning(x.shape[0])[:, None], axis=0)) ** 2
    return np.fft.rfftfreq(x.shape[0], d=dt), power


def dominant_period(x, dt: float) -> float:
    """Period 1/f* of the highest peak (f > 0) of the coordinate-summed power spectrum of x [N, D].

    The paper sets each system's timescale by its dominant Fourier frequency; this recomputes it."""
    freqs, power = power_spectrum(x, dt)
    total = power.sum(axis=1)
    total[0] = 0.0
    k = int(np.argmax(total))
    # parabolic refinement of the peak location on the log spectrum
    if 0 < k < len(total) - 1:
        a, b, c = np.log(total[k - 1:k + 2] + 1e-300)
        denom = a - 2 * b + c
        shift = 0.5 * (a - c) / denom if denom != 0 else 0.0
        f = (k + float(np.clip(shift, -0.5, 0.5))) * float(freqs[1])
    else:
        f = float(freqs[k])
    return 1.0 / f


def resample(x, dt: float, period: float, pts_per_period: int, n_points: int | None = None):
    """Linear interpolation of x [N, D] (spacing dt, time units) onto spacing period/pts_per_period."""
    x = np.asarray(x)
    t_old = np.arange(x.shape[0]) * dt
    new_dt = period / pts_per_period
    if n_points is None:
        n_points = int(math.floor((x.shape[0] - 1) * dt / new_dt)) + 1
    t_new = np.arange(n_points) * new_dt
    return np.stack([np.interp(t_new, t_old, x[:, d]) for d in range(x.shape[1])], axis=1)
