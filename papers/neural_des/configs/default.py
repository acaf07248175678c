"""Configs of papers/neural_des: ``smoke`` (tests), ``small`` (the four claims on CPU), ``paper``.

  smoke: python -m papers.neural_des.train --config=papers/neural_des/configs/default.py:smoke --workdir=/tmp/neural_des_smoke
         Tiny sizes of every work unit (claim-1 check with our solver only, one small seminorm problem without
         the reference solve, 4 CDE/GRU steps on 64 spirals with rectilinear control, 3 GAN steps); claims are
         computed, not expected to pass. Its sizes match the unit tests' (claim-1 problem, spirals, OU draws,
         CDE evaluation batch), so that the tests reuse its compiled programs. Measured 11.0 s in the test
         session (XLA optimisation level 0; mostly tracing and compilation), load average 1.7 on the shared
         2-core CPU.
  small: python -m papers.neural_des.train --config=papers/neural_des/configs/default.py:small --workdir=/tmp/neural_des_small
         python -m papers.neural_des.eval  --config=papers/neural_des/configs/default.py:small --workdir=/tmp/neural_des_small
         Claim 1: linear ODE (4x4) and geometric SDE (4-dim) in float64, 100 reversible-Heun steps; claim 2: an
         augmented neural ODE (2+2 channels, 2x64 MLP, 4,804 parameters) with Dopri5 at rtol 1e-6, atol 1e-9;
         claim 3: 1024 train / 1024 test spirals per drop rate (30/50/70 %), neural CDE vs GRU, 60 Adam steps
         of 32 each; claim 4: SDE-GAN on a time-dependent OU process, 600 steps.  Expected: 4/4 claims pass.
         Measured 2026-11-28 on the shared 2-core CPU (load 2.4-2.8): 1 min 16 s wall, 90 s CPU, 4/4 pass;
         numbers in README.md ("Claims").
  paper: the thesis' CharacterTrajectories setting (Kidger et al. 2020, Section 4.1: 30/50/70 % dropped,
         hidden 32, vector field 3 x 32, batch 32, lr 1e-3, up to 1000 epochs; one drop rate per run,
         ``cde.drop_rates``) with the data in ``cde.data_dir``; ``cde.dataset=speech_commands`` switches to
         the Speech Commands setting (hidden 90, vector field 4 x 40, batch 1024, lr 1.6e-3, 200 epochs).
         Not run here (GPU scale).
Overrides: ``...default.py:small,seed=3`` or ``--config.cde.steps=200``.
"""
from __future__ import annotations

import ml_collections

from common.config import build_config


def _base() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.checkpoint_every = 1            # work units
    c.log_every = 1

    # Claim 1: reversible Heun vs discretise-then-optimise vs backsolve (float64).
    c.reversible = ml_collections.ConfigDict(dict(dim=4, t1=1.0, n_steps=100, diffrax_routes=True,
                                                  exact_tol=1e-10, orders=2.0))
    # Claim 2: seminorm vs full-norm continuous adjoint (float64).
    # gain 3: initial weights x3 so the random-init field is genuinely nonlinear (at gain 1 it is nearly
    # linear and both norms take ~10 steps); atol << rtol as usual (torchdiffeq: 1e-9 / 1e-7).
    c.seminorm = ml_collections.ConfigDict(dict(state_dim=2, augment=2, width=64, depth=2, gain=3.0, scale=1.0,
                                                t1=10.0, rtol=1e-6, atol=1e-9, ref_tol=1e-10, reference=True, n_networks=8, min_saving=0.2,
                                                grad_tol=1e-4))
    # Claim 3: irregular spirals, neural CDE vs GRU with time gaps.
    c.cde = ml_collections.ConfigDict(dict(
        dataset="spirals", data_dir="", drop_rates=(0.3, 0.5, 0.7), n_train=1024, n_test=1024, length=100,
        noise=0.05, n_classes=2, hidden=16, width=32, depth=2, gru_hidden=32, interpolation="hermite",
        steps_per_knot=1, solver="scan", lr=1e-2, batch_size=32, steps=60, eval_every=10, eval_chunk=256,
        min_accuracy=0.95))
    # Claim 4: neural SDE GAN on a time-dependent Ornstein-Uhlenbeck process.
    c.gan = ml_collections.ConfigDict(dict(
        n_data=4096, length=32, t1=31.0, mu=0.02, theta=0.1, sigma=0.4, noise_dim=2, init_dim=4, hidden=8,
        disc_hidden=8, width=16, depth=1, substeps=1, gen_lr=5e-4, disc_lr=1e-3, steps=600, batch_size=128,
        n_eval=2048, log_every=100))
    return c


def _smoke() -> ml_collections.ConfigDict:
    c = _base()
    c.reversible.update(dim=3, n_steps=20, diffrax_routes=False)   # the problem reversible_test runs too
    c.seminorm.update(n_networks=1, reference=False, width=8, depth=1, gain=1.0, t1=1.0, rtol=1e-4, atol=1e-4, ref_tol=1e-6)
    c.cde.update(drop_rates=(0.5,), n_train=64, n_test=64, length=12, hidden=4, width=8, depth=1, gru_hidden=4,
                 interpolation="rectilinear",     # compiles faster; models_test checks the Hermite control
                 steps=4, eval_every=2, batch_size=16, eval_chunk=32)
    c.gan.update(n_data=64, length=6, t1=5.0, hidden=4, disc_hidden=4, width=8, steps=3, batch_size=16,
                 n_eval=16, log_every=1)      # n_eval = batch_size: one program draws both's noise
    return c


def _small() -> ml_collections.ConfigDict:
    return _base()


def _paper() -> ml_collections.ConfigDict:
    c = _base()
    c.reversible.update(dim=16, n_steps=1000)
    c.seminorm.update(width=128, depth=3, rtol=1e-8, atol=1e-8, ref_tol=1e-12)
    c.cde.update(dataset="character_trajectories", data_dir="~/data/uea", drop_rates=(0.3,), n_classes=20,
                 hidden=32, width=32, depth=3, gru_hidden=47, solver="diffrax", lr=1e-3, batch_size=32,
                 steps=62_500, eval_every=1000, eval_chunk=128)     # ~1000 epochs of 2000 series / 32
    c.gan.update(n_data=8192, length=64, t1=63.0, hidden=32, disc_hidden=32, width=32, depth=1, substeps=1,
                 steps=10_000, batch_size=1024, n_eval=8192, gen_lr=2e-5, disc_lr=1e-4)
    return c


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    return build_config(arg, {"smoke": _smoke, "small": _small, "paper": _paper})
