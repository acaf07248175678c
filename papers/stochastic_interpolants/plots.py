"""Figures: metrics against eps (learned vs exact fields, Monte-Carlo floor) and sample scatter plots."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def eps_sweep(path, sweep, num_steps):
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric, label in zip(axes, ("sw2", "kl"), ("sliced W2", "binned KL(rho1 || samples)")):
        for kind, style in (("learned", "o-"), ("exact", "s--")):
            eps = sorted(sweep[kind])
            means = [np.mean(sweep[kind][e][metric]) for e in eps]
            errs = [np.std(sweep[kind][e][metric]) for e in eps]
            ax.errorbar(eps, means, yerr=errs, fmt=style, label=f"{kind} b, s")
        f = np.mean(sweep["floor"][metric])
        ax.axhline(f, color="gray", ls=":", label="Monte-Carlo floor")
        ax.set_xscale("symlog", linthresh=0.1)
        ax.set_xlabel("eps (0 = probability-flow ODE)")
        ax.set_ylabel(label)
        ax.set_title(f"{label}, {num_steps} steps")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def samples(path, gauss, mixture, eps):
    panels = [("N(0,I) base", gauss["base"]), ("target", gauss["target"]),
              ("learned ODE", gauss[("learned", 0.0)]), (f"learned SDE eps={eps}", gauss[("learned", eps)]),
              ("mixture base", mixture["base"]), ("mixture: learned ODE", mixture[("learned", 0.0)]),
              (f"mixture: learned SDE eps={eps}", mixture[("learned", eps)]), ("mixture: exact ODE", mixture[("exact", 0.0)])]
    fig, axes = plt.subplots(2, 4, figsize=(14, 7))
    for ax, (title, x) in zip(axes.ravel(), panels):
        ax.scatter(x[:, 0], x[:, 1], s=1, alpha=0.4)
        ax.set_title(title)
        ax.set_xlim(-6, 6)
        ax.set_ylim(-6, 6)
        ax.set_aspect("equal")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
