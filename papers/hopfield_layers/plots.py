"""The key figures (matplotlib, Agg backend): retrieval vs N and beta, fixed-point regimes and
energy along updates, MIL test AUC vs training-set size."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(fig, path: str) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def retrieval_figure(r: dict, path: str) -> str:
    """Left: exact retrieval vs N (modern at each beta, classical). Right: retrieval vs beta per N."""
    n = np.array(r["num_patterns"])
    modern = np.array(r["modern"])                       # [N, B]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for j, beta in enumerate(r["betas"]):
        a.semilogx(n, modern[:, j], "o-", label=f"modern, beta={beta:g}")
    a.semilogx(n, r["classical"], "k^--", label="classical Hebbian")
    a.axvline(0.14 * r["dim"], color="gray", lw=0.8)
    a.set(xlabel="stored patterns N", ylabel="exact retrieval", title=f"d={r['dim']}, 30% masked, one update")
    a.legend(fontsize=7)
    colors = plt.cm.viridis(np.linspace(0, 0.95, len(n)))
    for i, num in enumerate(n):
        b.semilogx(r["betas"], modern[i], "o-", color=colors[i], label=f"N={num}")
    b.set(xlabel="beta", ylabel="exact retrieval", title="modern Hopfield net vs beta")
    b.legend(fontsize=7, ncol=2)
    return _save(fig, path)


def regimes_figure(g: dict, path: str) -> str:
    """Left: fraction of fixed points per regime and patterns averaged vs beta. Right: energy traces."""
    betas = np.array(g["betas"])
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for name in ("global", "metastable", "single"):
        a.semilogx(betas, g["fraction"][name], "o-", label=name)
    a2 = a.twinx()
    a2.loglog(betas, g["median_effective_patterns"], "k:", label="patterns averaged (median)")
    a2.set_ylabel("patterns averaged exp(H(p))")
    a.set(xlabel="beta", ylabel="fraction of fixed points", title=f"N={g['num_patterns']} clustered patterns")
    a.legend(loc="center left", fontsize=8)
    for i in np.linspace(0, len(betas) - 1, 5).astype(int):
        e = np.array(g["energy_trajectories"][i])
        b.plot(np.maximum(e - e[-1], 1e-16), label=f"beta={betas[i]:.3g}")
    b.set_yscale("log")
    b.set(xlabel="update step", ylabel="E(xi_t) - E(xi_final)", title="energy along Eq. (3) (one state)")
    b.legend(fontsize=8)
    return _save(fig, path)


def mil_figure(aucs: dict, path: str) -> str:
    """Test AUC (mean and range over seeds) vs number of training bags, one line per pooling."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for p in dict.fromkeys(k[0] for k in aucs):
        sizes = sorted({n for (q, _, n) in aucs if q == p})
        vals = [[a for (q, _, m), a in aucs.items() if q == p and m == n] for n in sizes]
        mean = np.array([np.mean(v) for v in vals])
        ax.errorbar(sizes, mean, yerr=[mean - [min(v) for v in vals], [max(v) for v in vals] - mean],
                    marker="o", capsize=3, label=p)
    ax.set(xlabel="training bags", ylabel="test AUC", title="digit-bag MIL (min/max over seeds)")
    ax.legend()
    return _save(fig, path)
