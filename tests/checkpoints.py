"""Reads every orbax checkpoint under a workdir into numpy trees, for exact comparisons."""
import os

import numpy as np
import orbax.checkpoint as ocp


def latest_checkpoints(workdir) -> dict:
    """{relative checkpoints dir: (latest step, flat dict path -> numpy array)} for each run in workdir."""
    found = {}
    for dirpath, dirnames, _ in os.walk(workdir):
        if os.path.basename(dirpath) != "checkpoints":
            continue
        steps = sorted(int(d) for d in dirnames if d.isdigit())
        dirnames[:] = []
        if not steps:
            continue
        tree = _restore_on_one_device(os.path.join(dirpath, str(steps[-1]), "state"))
        flat = {"/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path): np.asarray(leaf)
                for path, leaf in _flatten(tree)}
        found[os.path.relpath(dirpath, workdir)] = (steps[-1], flat)
    return found


def _restore_on_one_device(path):
    """Restores a saved pytree (also one saved by several processes) onto the first local device."""
    import jax
    checkpointer = ocp.PyTreeCheckpointer()
    meta = checkpointer.metadata(path)
    tree = getattr(getattr(meta, "item_metadata", meta), "tree", getattr(meta, "item_metadata", meta))
    one = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
    args = jax.tree.map(lambda _: ocp.ArrayRestoreArgs(sharding=one), tree)
    return checkpointer.restore(path, args=ocp.args.PyTreeRestore(restore_args=args))


def _flatten(tree):
    import jax
    return jax.tree_util.tree_flatten_with_path(tree)[0]


def assert_same_checkpoints(a, b, exact=True, rtol=0.0, atol=0.0):
    ca, cb = latest_checkpoints(a), latest_checkpoints(b)
    assert ca and set(ca) == set(cb), (sorted(ca), sorted(cb))
    for run in ca:
        (step_a, flat_a), (step_b, flat_b) = ca[run], cb[run]
        assert step_a == step_b, (run, step_a, step_b)
        assert set(flat_a) == set(flat_b)
        for key in flat_a:
            if exact:
                np.testing.assert_array_equal(flat_a[key], flat_b[key], err_msg=f"{run}:{key}")
            else:
                np.testing.assert_allclose(flat_a[key], flat_b[key], rtol=rtol, atol=atol, err_msg=f"{run}:{key}")
