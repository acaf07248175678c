"""Runs inside a separate environment that has ``dysts`` (0.96): times dysts' trajectory generation and
saves its trajectories for the agreement check. Invoked by benchmark.py as a script; it imports only
numpy and dysts. Usage: python dysts_worker.py '<json args>' out.npz"""
import json
import sys
import time

import numpy as np


def main():
    args = json.loads(sys.argv[1])
    import dysts.flows as flows
    out = {}
    for name in args["systems"]:
        model = getattr(flows, name)()
        times, cpu = [], []
        traj = None
        for _ in range(args["repeats"]):
            t0, c0 = time.perf_counter(), time.process_time()
            traj = model.make_trajectory(args["n"], pts_per_period=args["pts_per_period"], return_times=False)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        out[f"{name}/traj"] = np.asarray(traj)
        out[f"{name}/times"] = np.asarray(times)
        out[f"{name}/cpu"] = np.asarray(cpu)
        out[f"{name}/ic"] = np.asarray(model.ic)
        print(f"dysts {name}: median {np.median(times):.3f} s wall, {np.median(cpu):.3f} s CPU", flush=True)
    np.savez(sys.argv[2], **out)


if __name__ == "__main__":
    main()
