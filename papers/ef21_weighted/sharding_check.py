"""Sharded (many devices) vs single-device EF21-W: the iterates must agree.

Run as a module in a fresh process (XLA_FLAGS must be set before JAX starts, which this module
does when run as ``__main__``):

    python -m papers.ef21_weighted.sharding_check --devices=8 --out=/tmp/shard.json

It builds a heterogeneous least-squares problem, runs EF21-W (Top-1) and a variant with Rand-1,
minibatch gradients and partial participation on a mesh over all ``--devices`` CPU devices and
on a mesh over one device, and writes the largest relative differences of the iterates and of the
gradient-norm histories. ``run_in_subprocess`` does the same from a process whose JAX is already
initialised (tests, train).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def compare_sharded(n: int, d: int, rounds: int, seed: int) -> dict:
    """Runs both settings on meshes over all devices and over devices[:1]; returns the differences."""
    import jax
    import numpy as np

    from papers.ef21_weighted import ef21, problems, theory

    with jax.enable_x64(True):
        prob = problems.make_least_squares(seed, n, d, d, 1.0, 1e3, 10.0)
        alpha = 1.0 / d
        settings = {
            "top_k": dict(compressor="top_k", sgd_batch=0, participation=1.0,
                          gamma=theory.stepsize_new(prob.L, prob.L_i, alpha)),
            "rand_k_sgd_pp": dict(compressor="rand_k", sgd_batch=max(1, d // 10), participation=0.5,
                                  gamma=theory.stepsize_new(prob.L, prob.L_i, theory.participation_alpha(alpha, 0.5))),
        }
        meshes = {"sharded": ef21.make_client_mesh(), "single": ef21.make_client_mesh(jax.devices()[:1])}
        out = {"devices": len(jax.devices()), "n_clients": n, "dim": d, "rounds": rounds}
        for name, s in settings.items():
            res = {}
            for mname, mesh in meshes.items():
                runner = ef21.EF21Runner(prob, mesh, sgd_batch=max(1, d // 10))
                state, _ = runner.init(np.zeros(d), weighted=True)
                gamma = s["gamma"]
                kw = {k: v for k, v in s.items() if k != "gamma"}
                state, hist = runner.run(state, gamma=gamma, weighted=True, rounds=rounds, k=1, seed=seed, **kw)
                res[mname] = (np.asarray(state["x"]), np.asarray(hist["gn2"]), np.asarray(hist["n_sent"]))
            (xs, gs, ss), (x1, g1, s1) = res["sharded"], res["single"]
            out[name] = {
                "max_rel_diff_x": float(np.max(np.abs(xs - x1)) / np.max(np.abs(x1))),
                "max_rel_diff_gn2": float(np.max(np.abs(gs - g1) / g1)),
                "bitwise_equal": bool(np.array_equal(xs, x1) and np.array_equal(gs, g1)),
                "same_participation": bool(np.array_equal(ss, s1)),
                "final_gn2_ratio": float(g1[-1] / g1[0]),
            }
        return out


def run_in_subprocess(out_path: str, devices: int = 8, n: int = 100, d: int = 50, rounds: int = 300,
                      seed: int = 0, timeout: float = 600) -> dict:
    """Runs this module in a new Python process with ``devices`` simulated CPU devices."""
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    env["JAX_PLATFORMS"] = "cpu"
    env["PYTHONPATH"] = _ROOT + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "papers.ef21_weighted.sharding_check", f"--devices={devices}",
           f"--n={n}", f"--d={d}", f"--rounds={rounds}", f"--seed={seed}", f"--out={out_path}"]
    proc = subprocess.run(cmd, cwd=_ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"sharding check failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    with open(out_path) as f:
        return json.load(f)


def _main(argv: list[str]) -> None:
    args = dict(a.lstrip("-").split("=", 1) for a in argv)
    devices = int(args.get("devices", 8))
    os.environ.setdefault("XLA_FLAGS", f"--xla_force_host_platform_device_count={devices}")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    result = compare_sharded(int(args.get("n", 100)), int(args.get("d", 50)), int(args.get("rounds", 300)),
                             int(args.get("seed", 0)))
    if result["devices"] != devices:
        raise SystemExit(f"expected {devices} devices, JAX sees {result['devices']} (XLA_FLAGS set too late?)")
    with open(args["out"], "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result))


if __name__ == "__main__":
    _main(sys.argv[1:])
