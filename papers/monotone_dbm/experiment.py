"""Train and evaluate papers/monotone_dbm.

``train_and_evaluate`` first checks the config and the workdir (``check_config``, the batch over the
devices, ``config.json`` against a previous run's), before any work or write; then it runs the work
units in order, each resumable:
  1. ``<workdir>/results/uniqueness.json`` (claim 1) and ``enumeration.json`` (claim 2), float64
     analyses of dense models (skipped when present);
  2. joint completion + classification training on digits (MNIST in the paper config) in the workdir
     root (checkpoints/, metrics.jsonl), one ``run_loop`` with the batch sharded over 'data';
  3. ``evaluate`` (single process only; run eval.py after a multi-process run).
"""
from __future__ import annotations

import functools
import json
import logging
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp

from common import checkpoint, claims, data, distributed, sharding, training
from common.config import ConfigError
from common.training import TrainState
from papers.monotone_dbm import analysis, model


# --------------------------------------------------------------------------- data

@functools.lru_cache(maxsize=4)
def _dataset(dataset: str, data_dir: str, num_test: int, seed: int):
    if dataset == "digits":
        x, y = data.load_digits()
        order = np.random.default_rng(seed).permutation(len(y))
        x, y = x[order], y[order]
        return (x[:-num_test], y[:-num_test]), (x[-num_test:], y[-num_test:])
    if dataset == "mnist":
        train = data.load_mnist(data_dir, "train")
        test = data.load_mnist(data_dir, "test")
        return train, (test[0][:num_test], test[1][:num_test])
    raise ValueError(f"unknown dataset {dataset!r}; expected 'digits' or 'mnist'")


IMAGE_SHAPES = {"digits": (8, 8), "mnist": (28, 28)}
NUM_CLASSES = 10


def check_config(config) -> None:
    """Raises ConfigError when the model does not fit the data: the pixel layer must be the image grid with
    one unit of ``data.num_bins`` categories per pixel, the last layer one unit of NUM_CLASSES categories,
    and some pixels must be unobserved (0 <= data.observed < 1). Otherwise a larger num_bins one-hot encodes
    pixels as all-zero clamps (NaN loss); a smaller one trains without complaint and fails in eval."""
    d, layers = config.data, [tuple(int(v) for v in layer) for layer in config.model.layers]
    if d.dataset not in IMAGE_SHAPES:
        raise ConfigError(f"unknown data.dataset {d.dataset!r}; expected one of {sorted(IMAGE_SHAPES)}")
    pixels = IMAGE_SHAPES[d.dataset] + (1, int(d.num_bins))
    if layers[0] != pixels:
        raise ConfigError(f"model.layers[0] = {layers[0]} must be the pixel layer {pixels} of {d.dataset} with "
                          f"data.num_bins = {d.num_bins} categories (H, W, units per pixel, categories)")
    if layers[-1] != (1, 1, 1, NUM_CLASSES):
        raise ConfigError(f"model.layers[-1] = {layers[-1]} must be the label unit (1, 1, 1, {NUM_CLASSES})")
    if not 0.0 <= d.observed < 1.0:
        raise ConfigError(f"data.observed = {d.observed} must be in [0, 1): some pixels must be left to complete")


def check_data(config) -> None:
    """``check_config``, then MNIST (data.dataset='mnist', both splits) before the analyses run; the bundled
    digits need nothing."""
    check_config(config)
    d = config.data
    if d.dataset != "digits":
        data.check_all({"data.data_dir": lambda: _dataset(d.dataset, d.data_dir, d.num_test, config.seed)})


def load_data(config):
    """((bins, labels) train, (bins, labels) test): images binned into config.data.num_bins classes."""
    d = config.data
    (xtr, ytr), (xte, yte) = _dataset(d.dataset, d.data_dir, d.num_test, config.seed)
    return ((model.bin_images(xtr, d.num_bins), ytr), (model.bin_images(xte, d.num_bins), yte))


def get_batch(config, step: int) -> dict:
    """Batch ``step`` (sampled with replacement, deterministic in (seed, step)): bins [B, H, W] int32,
    mask [B, H, W] float32 (1 = observed, Bernoulli(config.data.observed)), labels [B] int32."""
    (bins, labels), _ = load_data(config)
    rng = np.random.default_rng([config.seed, int(step), 11])
    idx = rng.integers(0, len(labels), config.train.batch_size)
    mask = (rng.random((config.train.batch_size,) + bins.shape[1:]) < config.data.observed).astype(np.float32)
    return {"bins": bins[idx], "mask": mask, "labels": labels[idx]}


# --------------------------------------------------------------------------- training

def make_optimizer(config) -> optax.GradientTransformation:
    t = config.train
    schedule = optax.cosine_decay_schedule(t.learning_rate, t.num_steps, alpha=t.end_learning_rate / t.learning_rate)
    return optax.adam(schedule)


def _config_key(config, *sections) -> str:
    """A hashable key for the parts of ``config`` a compiled function depends on."""
    return json.dumps([config[s].to_dict() if hasattr(config[s], "to_dict") else config[s] for s in sections],
                      sort_keys=True, default=str)


def _init_state(config, key) -> TrainState:
    k_init, k_rng = jax.random.split(key)
    params = model.init_params(config, k_init)
    return TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=make_optimizer(config).init(params),
                      rng=k_rng)


_INIT: dict = {}


def init_state(config, key) -> TrainState:
    """The initial state, computed once per (model/optimizer config, key) in a process and then reused:
    training, evaluation and restoring all start from it, and op by op it dispatches dozens of small XLA
    programs. (Not jitted: XLA's fusion would change the initial weights in the last bit.)"""
    k = (_config_key(config, "model", "train"), tuple(np.asarray(jax.random.key_data(key)).ravel().tolist()))
    if k not in _INIT:
        _INIT[k] = _init_state(config, key)
    return _INIT[k]


def make_train_step(config):
    """Jitted pure ``(state, batch) -> (state, metrics)``; gradients by implicit differentiation."""
    tx = make_optimizer(config)

    def step(state: TrainState, batch):
        (_, aux), grads = jax.value_and_grad(
            lambda p: model.loss_fn(config, p, batch["bins"], batch["mask"], batch["labels"]), has_aux=True)(
                state.params)
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        aux = dict(aux, grad_norm=optax.global_norm(grads))
        return state.replace(step=state.step + 1, params=optax.apply_updates(state.params, updates),
                             opt_state=opt_state), aux

    return jax.jit(step)


def train(config, workdir: str) -> TrainState:
    """Trains the monotone DBM, resuming from the latest checkpoint in ``workdir``."""
    return training.run_data_parallel(workdir, config, init_state(config, jax.random.PRNGKey(config.seed)),
                                      make_train_step(config), lambda step: get_batch(config, step),
                                      batch_size=config.train.batch_size, num_steps=config.train.num_steps,
                                      name="dbm")


# --------------------------------------------------------------------------- analyses (claims 1-2)

def run_analyses(config, workdir: str) -> dict:
    """Claims 1-2 in float64; each result is a JSON work unit in <workdir>/results (not redone)."""
    out = {}
    os.makedirs(os.path.join(workdir, "results"), exist_ok=True)
    units = {"uniqueness": (analysis.uniqueness_experiment, config.uniqueness, 1),
             "enumeration": (analysis.enumeration_experiment, config.enumeration, 2)}
    for name, (fn, cfg, salt) in units.items():
        path = os.path.join(workdir, "results", f"{name}.json")
        if os.path.exists(path):
            with open(path) as f:
                out[name] = json.load(f)
            continue
        logging.info("running the %s analysis", name)
        with jax.enable_x64(True):
            out[name] = fn(cfg, jax.random.fold_in(jax.random.PRNGKey(config.seed), salt))
        if distributed.is_chief():
            with open(path + ".tmp", "w") as f:
                json.dump(out[name], f, indent=2)
            os.replace(path + ".tmp", path)
    return out


def check_train_workdir(config, workdir: str) -> None:
    """Every check of a training run, before any work: the config (``check_config``), the batch over the
    devices, and the workdir's ``config.json`` against this config (written here when absent: the run's
    first write)."""
    check_config(config)
    sharding.check_batch_divisible(config.train.batch_size, sharding.make_mesh([(sharding.DATA, -1)]))
    checkpoint.check_or_write_config(workdir, config)


def check_eval_workdir(config, workdir: str) -> None:
    """Every check of an evaluation, before any work or write: the config, a run in ``workdir`` with the same
    config (its ``config.json``) and a finished checkpoint of it."""
    check_config(config)
    if not os.path.exists(os.path.join(workdir, "config.json")):
        raise FileNotFoundError(f"{workdir} holds no run (no config.json): run the train binary first")
    checkpoint.check_or_write_config(workdir, config)          # config.json exists: this only compares
    if not ocp.utils.checkpoint_steps(os.path.join(workdir, "checkpoints")):
        raise FileNotFoundError(f"no checkpoint in {workdir}: run the train binary first")


def train_and_evaluate(config, workdir: str):
    check_train_workdir(config, workdir)
    run_analyses(config, workdir)
    train(config, workdir)
    if jax.process_count() == 1:
        return evaluate(config, workdir)
    return None


# --------------------------------------------------------------------------- evaluation (claim 3)

def restore_params(config, workdir: str):
    state = init_state(config, jax.random.PRNGKey(config.seed))
    with checkpoint.Checkpointer(workdir, config) as ckpt:
        if ckpt.latest_step() is None:
            raise FileNotFoundError(f"no checkpoint in {workdir}: run the train binary first")
        state = ckpt.restore_or(state)
    return state


_PREDICT: dict = {}


def _compiled_predict(config):
    """One jitted ``(params, bins, mask) -> (label probs, pixel probs)`` per model/solver config."""
    key = _config_key(config, "model", "solver", "data")
    if key not in _PREDICT:
        _PREDICT[key] = jax.jit(functools.partial(model.predict, config))
    return _PREDICT[key]


def completion_metrics(config, params) -> dict:
    """Test accuracy and completion errors over ``num_eval_masks`` random masks per test image.

    Completion MSE: predictive-mean intensity (bin centres, predictive softmax(tau^2 logits)) vs the
    true bin centre on unobserved pixels (also with the untempered mean-field marginals); baseline: the
    per-pixel mean of the training images. Reference (not part of the claim): linear regression from
    the observed to the unobserved pixels (``model.linear_completion``, fitted on the training images).
    Also the MSE of the argmax bin's centre. Bin accuracy (and class-balanced bin accuracy, which the
    class-balanced focal loss targets) of the argmax vs the per-pixel training mode."""
    (tr_bins, _), (te_bins, te_labels) = load_data(config)
    nb = config.data.num_bins
    centers = model.bin_centers(nb)
    pixel_mean = centers[tr_bins].mean(0)                              # [H, W]
    pixel_mode = np.argmax(np.stack([(tr_bins == k).mean(0) for k in range(nb)], -1), -1)
    predict = _compiled_predict(config)
    correct, sq, sq_q, sq_base, sq_lin, sq_arg, n, count = 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0
    tr_values = centers[tr_bins]
    confusion = np.zeros((nb, nb), np.int64)
    confusion_base = np.zeros((nb, nb), np.int64)
    examples = None
    eb = config.train.eval_batch
    for r in range(config.data.num_eval_masks):
        rng = np.random.default_rng([config.seed, r, 99])
        mask = (rng.random(te_bins.shape) < config.data.observed).astype(np.float32)
        for s in range(0, len(te_labels), eb):
            b, mk, lab = te_bins[s:s + eb], mask[s:s + eb], te_labels[s:s + eb]
            lp, pp, pq = jax.device_get(predict(params, jnp.asarray(b), jnp.asarray(mk)))
            unobs = mk == 0
            truth = centers[b]
            correct += int(np.sum(lp.argmax(-1) == lab))
            n += len(lab)
            sq += float(np.sum((((pp @ centers) - truth) ** 2)[unobs]))
            sq_q += float(np.sum((((pq @ centers) - truth) ** 2)[unobs]))
            sq_base += float(np.sum(((pixel_mean[None] - truth) ** 2)[unobs]))
            sq_lin += float(np.sum(((model.linear_completion(tr_values, truth, mk) - truth) ** 2)[unobs]))
            sq_arg += float(np.sum(((centers[pp.argmax(-1)] - truth) ** 2)[unobs]))
            np.add.at(confusion, (b[unobs], pp.argmax(-1)[unobs]), 1)
            np.add.at(confusion_base, (b[unobs], np.broadcast_to(pixel_mode, b.shape)[unobs]), 1)
            count += int(unobs.sum())
            if examples is None:
                examples = dict(bins=b[:10], mask=mk[:10], pred=pp[:10].argmax(-1), labels=lab[:10],
                                pred_labels=lp[:10].argmax(-1))

    def balanced(cm):
        rows = cm.sum(1)
        return float(np.mean(np.diag(cm)[rows > 0] / rows[rows > 0]))

    return dict(test_accuracy=correct / n, completion_mse=sq / count, completion_mse_marginals=sq_q / count,
                baseline_mse=sq_base / count, linear_regression_mse=sq_lin / count,
                completion_mse_argmax=sq_arg / count,
                completion_bin_accuracy=float(np.trace(confusion) / count),
                baseline_bin_accuracy=float(np.trace(confusion_base) / count),
                completion_balanced_accuracy=balanced(confusion), baseline_balanced_accuracy=balanced(confusion_base),
                num_test=n, examples=examples)


def plot_completions(examples, num_bins: int, path: str) -> None:
    """Rows: observed pixels (unobserved in red), completion, truth. Each row is one mosaic image (one axes
    per row, not per digit: drawing dozens of axes took seconds)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    k = len(examples["labels"])
    h, w = examples["bins"].shape[1:]
    observed = np.where(examples["mask"] > 0, examples["bins"], -1)
    rows = [("observed", observed), ("completed", np.where(examples["mask"] > 0, examples["bins"], examples["pred"])),
            ("truth", examples["bins"])]
    fig, axes = plt.subplots(3, 1, figsize=(1.2 * k, 4))
    red = matplotlib.colors.to_rgb("tab:red")
    for ax, (title, imgs) in zip(axes, rows):
        mosaic = np.empty((h, k * (w + 1) - 1, 3))
        mosaic[:] = matplotlib.colors.to_rgb("tab:blue")                  # one blue column between digits
        for i in range(k):
            gray = np.clip(imgs[i], 0, None) / max(num_bins - 1, 1)
            rgb = np.where((imgs[i] < 0)[..., None], red, gray[..., None])
            mosaic[:, i * (w + 1):i * (w + 1) + w] = rgb
        ax.imshow(mosaic, interpolation="nearest")
        ax.set_yticks([])
        ax.set_ylabel(title, fontsize=8)
        centres = [i * (w + 1) + (w - 1) / 2 for i in range(k)]
        if title == "completed":
            ax.set_xticks(centres, [f"pred {v}" for v in examples["pred_labels"]], fontsize=7)
        elif title == "truth":
            ax.set_xticks(centres, [f"label {v}" for v in examples["labels"]], fontsize=7)
        else:
            ax.set_xticks([])
    fig.suptitle("monotone DBM: joint completion + classification (red = unobserved)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def evaluate(config, workdir: str) -> dict:
    """Measures the three claims from the saved analyses and the last checkpoint; writes eval.json."""
    check_eval_workdir(config, workdir)
    res = run_analyses(config, workdir)
    state = restore_params(config, workdir)
    cm = completion_metrics(config, state.params)
    fig = os.path.join(workdir, "completions.png")
    if distributed.is_chief():
        plot_completions(cm.pop("examples"), config.data.num_bins, fig)
    else:
        cm.pop("examples")

    u, e = res["uniqueness"], res["enumeration"]
    mono_ok = u["monotone"]["spread"] < 1e-4 and u["monotone"]["mf_residual"] < 1e-6
    base_fail = analysis.naive_fails(u["unconstrained"]) and analysis.naive_fails(u["rbm"])
    c1 = claims.Claim(
        "uniqueness",
        f"{config.uniqueness.num_starts} random starts of the monotone solver reach one fixed point "
        "(max diff < 1e-4); naive parallel mean-field on unconstrained models oscillates or depends on the start",
        "unique fixed point (theorem); naive RBM mean-field fails to converge",
        f"monotone spread {u['monotone']['spread']:.1e}, MF residual {u['monotone']['mf_residual']:.1e}; "
        f"naive on same A unscaled: residual {u['unconstrained']['mf_residual']:.2f}, spread "
        f"{u['unconstrained']['spread']:.2f}; naive on RBM: residual {u['rbm']['mf_residual']:.2f}, "
        f"spread {u['rbm']['spread']:.2f}",
        mono_ok and base_fail)
    # both KLs: KL(q||p), the objective mean-field minimises, and the KL to the exact marginals
    # sum_u KL(p_u||q_u) (the claim's wording), each against the best of the restarts on that measure
    c2_ok = (e["mf_residual"] < 1e-6 and e["kl_var"] <= e["restarts_best_kl_var"] + 1e-9
             and e["kl_marginals"] <= e["restarts_best_kl_marginals"] + 1e-9)
    c2 = claims.Claim(
        "enumeration",
        f"{config.enumeration.num_units} units x {config.enumeration.num_categories} categories: fixed point "
        "satisfies q = softmax(Wq+b) to 1e-6; KL(q‖p) and the KL to the exact marginals, sum_u KL(p_u‖q_u), "
        f"each no worse than the best of {e['num_restarts']} naive mean-field restarts",
        "global optimum of the mean-field objective (uniqueness)",
        f"residual {e['mf_residual']:.1e}; KL(q‖p) {e['kl_var']:.6f} vs best restart {e['restarts_best_kl_var']:.6f}; "
        f"marginal KL {e['kl_marginals']:.2e} vs best restart {e['restarts_best_kl_marginals']:.2e}",
        c2_ok)
    c3_ok = cm["test_accuracy"] > 0.8 and cm["completion_mse"] < 0.75 * cm["baseline_mse"]
    c3 = claims.Claim(
        "completion_classification",
        f"{config.data.dataset}, {config.data.num_bins} bins, {config.data.observed:.0%} observed: accuracy > 80% "
        "and completion MSE < 0.75 x per-pixel-mean baseline",
        "joint completion + classification works (accuracy not reported numerically)",
        f"accuracy {cm['test_accuracy']:.3f}; MSE {cm['completion_mse']:.4f} vs baseline {cm['baseline_mse']:.4f} "
        f"(ratio {cm['completion_mse'] / cm['baseline_mse']:.2f}; linear-regression reference "
        f"{cm['linear_regression_mse']:.4f}); "
        f"(untempered marginals {cm['completion_mse_marginals']:.4f}); bin accuracy {cm['completion_bin_accuracy']:.3f} "
        f"vs mode {cm['baseline_bin_accuracy']:.3f}, balanced {cm['completion_balanced_accuracy']:.3f} vs "
        f"{cm['baseline_balanced_accuracy']:.3f}",
        c3_ok)
    metrics_out = dict(uniqueness=u, enumeration=e, completion=cm, train_steps=int(state.step))
    return claims.write_eval(workdir, metrics_out, [c1, c2, c3], [fig])
