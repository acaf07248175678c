"""train_and_evaluate / evaluate of the lazy-to-rich grokking reproduction.

Training runs every GD run of the study at once (vmapped, one jit): the alpha grid on the quadratic teacher,
and the alignment intervention (same network, data and alpha, labels moved onto the top eigenvector of the
initial NTK, as in the paper's Fig. 5). GD runs in the exact reduced coordinates W = W0 A + 1 b^T of model.py.
Each jitted chunk does ``log_every`` full-batch GD steps of all runs with ``lax.scan``, detects the first step
at which the train loss and the test loss (closed form for the teacher, held-out points for the alignment
runs) fall below ``threshold`` x their initial value, and records one point of the loss, loss-component and
NTK-alignment curves. The digits variant advances in the same chunk. ``common.training.run_loop`` drives the
chunks with checkpoints, so a killed run resumes bit-identical and a second run on a finished workdir does
nothing. ``evaluate`` adds the lazy baselines (linearised model, K0 kernel regression), a Monte-Carlo check of
the closed form, diagnostics of the stored curves' shape (``curve_shape``), the claims and the figures.
"""
from __future__ import annotations

import functools
import os

import flax
import jax
import jax.numpy as jnp
import numpy as np

from common import checkpoint as ckpt_lib
from common import claims as claims_lib
from common import data as common_data
from common import distributed
from common import metrics as metrics_lib
from common import training
from papers.grokking_lazy_rich import digits, kernel, model


# Config keys a resumed run or an eval may change. ``log_every`` is not one: it sets the chunk size, and a
# checkpointed step counts chunks, so another value would misread the stored state.
RESUMABLE_KEYS = ("checkpoint_every", "max_to_keep")

# Relative loss thresholds of the eval-only curve diagnostics (first crossings at log_every resolution).
DIAGNOSTIC_THRESHOLDS = (0.5, 0.2, 0.15, 0.1)


@flax.struct.dataclass
class State:
    step: jax.Array            # finished chunks
    A: jax.Array               # [R, D, D] reduced weights of the alpha grid: W = W0 A + 1 b^T (model.py)
    b: jax.Array               # [R, D]
    t_tr: jax.Array            # [R] first step with train loss < threshold * initial (-1: not yet)
    t_te: jax.Array            # [R] same for the closed-form test loss
    t_tr_plateau: jax.Array    # [R] first step with train loss < plateau_threshold * initial
    te_at_plateau: jax.Array   # [R] test loss at that step
    curves: dict               # name -> [R, C + 1] (point c = after c chunks)
    al_A: jax.Array            # [Ra, D, D] reduced weights of the alignment runs (one per target)
    al_b: jax.Array            # [Ra, D]
    al_t_tr: jax.Array         # [Ra]
    al_t_te: jax.Array         # [Ra] (held-out test loss)
    al_curves: dict            # name -> [Ra, C + 1]
    dig: dict                  # digits params, each [Rd, ...]
    dig_curves: dict           # name -> [Rd, C + 1]


def num_chunks(config) -> int:
    if config.steps % config.log_every:
        raise ValueError(f"steps={config.steps} must be a multiple of log_every={config.log_every}")
    return config.steps // config.log_every


def alignment_targets(X_all, W0, y_quad_all, eps, mixes):
    """Labels of the alignment intervention (the paper's Fig. 5: labels along eigenvectors of the initial NTK).

    K0 is the initial NTK on all 2P points (train + held-out), mean-centred as in the paper; u1 is its top
    eigenvector. Each target is y_g = sqrt(1 - g^2) q + g u, with q and u the quadratic teacher and u1
    standardised to unit RMS over the 2P points (u1's sign taken along q), then rescaled to the teacher's RMS so
    that every target has the same output scale (same effective laziness). g = 0 is the paper's task, g = 1 the
    paper's top-eigenvector labels. Returns [G, 2P].
    """
    K = model.ntk(W0, X_all, X_all, eps)
    K = K - jnp.mean(K)
    _, U = jnp.linalg.eigh(0.5 * (K + K.T))
    u = U[:, -1]
    rms = lambda z: jnp.sqrt(jnp.mean(z * z))
    q = y_quad_all / rms(y_quad_all)
    u = u / rms(u)
    u = jnp.where(u @ q < 0, -u, u)
    out = []
    for g in mixes:
        z = np.sqrt(1.0 - g * g) * q + g * u
        out.append(z / rms(z) * rms(y_quad_all))
    return jnp.stack(out)


@functools.partial(jax.jit, static_argnums=(2, 3, 4, 5, 6, 7))
def _synthetic_task(k_task, k_w, dim, n_train, width, target_scale, eps, mixes):
    """The polynomial task, W0, its moments and the alignment labels, in one compiled function."""
    X, y, beta = model.make_task(k_task, dim, n_train, target_scale)
    W0 = model.init_weights(k_w, width, dim)
    m, C = model.reduced_moments(W0)
    Xt = jax.random.normal(jax.random.fold_in(k_task, 7), (n_train, dim), jnp.float64) / jnp.sqrt(dim)
    X_all = jnp.concatenate([X, Xt])
    Y_al = alignment_targets(X_all, W0, model.target(X_all, beta, target_scale), eps, mixes)
    return {"X": X, "y": y, "beta": beta, "W0": W0, "m": m, "C": C, "Xt": Xt,
            "y_al": Y_al[:, :n_train], "yt_al": Y_al[:, n_train:]}


def check_data(config) -> None:
    """MNIST for ``digits.source='mnist'``, before any work (the offline digits need nothing)."""
    dig = config.digits
    if dig.source == "mnist":
        common_data.check_all({"digits.data_dir": lambda: common_data.load_mnist(os.path.expanduser(dig.data_dir))})


def build_task(config):
    """Deterministic data and initial weights (same for every run, as in the paper's sweeps)."""
    k_task, k_w, k_dig = jax.random.split(jax.random.PRNGKey(config.seed), 3)
    task = _synthetic_task(k_task, k_w, config.dim, config.n_train, config.width, float(config.target_scale),
                           float(config.eps), tuple(float(g) for g in config.align_mix))
    dig = config.digits
    Xd, Yd, Xdt, Ydt = digits.load_split(dig.n_train, config.seed, dig.source, os.path.expanduser(dig.data_dir))
    p0 = digits.init_params(k_dig, dig.width, Xd.shape[1])
    return {**task, "Xd": jnp.asarray(Xd), "Yd": jnp.asarray(Yd),
            "Xdt": jnp.asarray(Xdt), "Ydt": jnp.asarray(Ydt), "dig0": p0}


def initial_state(config, task) -> State:
    R, C = len(config.alphas), num_chunks(config)
    Ra, Rd, D = len(config.align_mix), len(config.digits.alphas), config.dim
    z = lambda n: jnp.zeros((n, C + 1), jnp.float64)
    curves = {k: z(R) for k in ("train", "test", "linear", "variance", "alignment", "ntk_align")}
    al_curves = {k: z(Ra) for k in ("train", "test", "ntk_align")}
    dig_curves = {k: z(Rd) for k in ("train", "test", "train_acc", "test_acc")}
    minus1 = lambda n: -jnp.ones((n,), jnp.int32)
    eye = lambda n: jnp.broadcast_to(jnp.eye(D, dtype=jnp.float64), (n, D, D))
    return State(step=jnp.asarray(0, jnp.int32), A=eye(R), b=jnp.zeros((R, D), jnp.float64),
                 t_tr=minus1(R), t_te=minus1(R), t_tr_plateau=minus1(R), te_at_plateau=jnp.zeros((R,), jnp.float64),
                 curves=curves, al_A=eye(Ra), al_b=jnp.zeros((Ra, D), jnp.float64), al_t_tr=minus1(Ra),
                 al_t_te=minus1(Ra), al_curves=al_curves,
                 dig=jax.tree.map(lambda p: jnp.broadcast_to(p, (Rd,) + p.shape), task["dig0"]),
                 dig_curves=dig_curves)


def _snapshot(A, b, task, alpha, config):
    """Curve values of one grid run: train/test loss, loss components, NTK-label alignment."""
    X, y, W0, beta = task["X"], task["y"], task["W0"], task["beta"]
    v, M = model.reduced_statistics(A, b, task["m"], task["C"], alpha, config.eps)
    comp = model.loss_components(v, M, beta, config.target_scale)
    n = config.align_points
    W = model.weights_from_reduced(W0, A, b)
    return {"train": jnp.mean((model.quadratic_predict(v, M, X) - y) ** 2),
            "test": comp["linear"] + comp["variance"] + comp["alignment"], **comp,
            "ntk_align": model.kernel_alignment(model.ntk(W, X[:n], X[:n], config.eps), y[:n])}


def _al_snapshot(A, b, y, yt, task, config):
    """Curve values of one alignment run: train / held-out test loss, NTK-label alignment."""
    X = task["X"]
    v, M = model.reduced_statistics(A, b, task["m"], task["C"], config.align_alpha, config.eps)
    n = config.align_points
    W = model.weights_from_reduced(task["W0"], A, b)
    return {"train": jnp.mean((model.quadratic_predict(v, M, X) - y) ** 2),
            "test": jnp.mean((model.quadratic_predict(v, M, task["Xt"]) - yt) ** 2),
            "ntk_align": model.kernel_alignment(model.ntk(W, X[:n], X[:n], config.eps), y[:n])}


def _dig_snapshot(p, task, alpha):
    p0 = task["dig0"]
    return {"train": digits.centred_loss(p, p0, task["Xd"], task["Yd"], alpha),
            "test": digits.centred_loss(p, p0, task["Xdt"], task["Ydt"], alpha),
            "train_acc": digits.accuracy(p, p0, task["Xd"], task["Yd"], alpha),
            "test_acc": digits.accuracy(p, p0, task["Xdt"], task["Ydt"], alpha)}


def _teacher_chunk(config, task, step0, A, b, t_tr, t_te, t_pl, te_pl, alpha):
    """``log_every`` reduced GD steps of one teacher run at ``alpha``. Records the first step with the train
    (t_tr) and the closed-form test loss (t_te) below ``threshold`` x their initial values, and the test loss
    when the train loss first falls below ``plateau_threshold`` x its initial value (t_pl, te_pl)."""
    X, y, beta, m, C = task["X"], task["y"], task["beta"], task["m"], task["C"]
    eps, s, thr = config.eps, config.target_scale, config.threshold
    train0 = jnp.mean(y * y)                                              # f~ = 0 at W0
    test0 = model.closed_form_test_loss(jnp.zeros_like(beta), jnp.zeros((beta.shape[0],) * 2, beta.dtype), beta, s)

    def body(carry, i):
        A, b, t_tr, t_te, t_pl, te_pl = carry
        t = step0 + i
        v, M = model.reduced_statistics(A, b, m, C, alpha, eps)
        te = model.closed_form_test_loss(v, M, beta, s)
        A, b, tr = model.reduced_gd_step(A, b, m, C, X, y, alpha, eps, config.eta0)
        t_tr = jnp.where((t_tr < 0) & (tr < thr * train0), t, t_tr)
        t_te = jnp.where((t_te < 0) & (te < thr * test0), t, t_te)
        hit = (t_pl < 0) & (tr < config.plateau_threshold * train0)
        te_pl = jnp.where(hit, te, te_pl)
        t_pl = jnp.where(hit, t, t_pl)
        return (A, b, t_tr, t_te, t_pl, te_pl), None
    carry, _ = jax.lax.scan(body, (A, b, t_tr, t_te, t_pl, te_pl), jnp.arange(config.log_every, dtype=jnp.int32))
    return carry


def _alignment_chunk(config, task, step0, A, b, t_tr, t_te, ya, yta):
    """``log_every`` reduced GD steps of one alignment run (labels ``ya``, held-out labels ``yta``) at
    ``align_alpha``, recording the threshold crossings of its train and held-out test losses."""
    X, m, C, eps, thr = task["X"], task["m"], task["C"], config.eps, config.threshold
    tr0, te0 = jnp.mean(ya * ya), jnp.mean(yta * yta)

    def body(carry, i):
        A, b, t_tr, t_te = carry
        t = step0 + i
        v, M = model.reduced_statistics(A, b, m, C, config.align_alpha, eps)
        te = jnp.mean((model.quadratic_predict(v, M, task["Xt"]) - yta) ** 2)
        A, b, tr = model.reduced_gd_step(A, b, m, C, X, ya, config.align_alpha, eps, config.eta0)
        t_tr = jnp.where((t_tr < 0) & (tr < thr * tr0), t, t_tr)
        t_te = jnp.where((t_te < 0) & (te < thr * te0), t, t_te)
        return (A, b, t_tr, t_te), None
    carry, _ = jax.lax.scan(body, (A, b, t_tr, t_te), jnp.arange(config.log_every, dtype=jnp.int32))
    return carry


def _digits_chunk(config, task, p, alpha):
    """``digits.steps_per_chunk`` GD steps of one digits network at ``alpha``."""
    def body(p, _):
        p, _ = digits.gd_step(p, task["dig0"], task["Xd"], task["Yd"], alpha, config.digits.eta0)
        return p, None
    p, _ = jax.lax.scan(body, p, None, length=config.digits.steps_per_chunk)
    return p


def _update_curves(curves, vals, n, c):
    """Writes point c + 1 of every curve from the second half of ``vals`` ([2n, ...]: before; after the
    chunk), and point 0 from the first half in the first chunk (c == 0)."""
    out = {}
    for k in curves:
        cur = curves[k].at[:, 0].set(jnp.where(c == 0, vals[k][:n], curves[k][:, 0]))
        out[k] = cur.at[:, c + 1].set(vals[k][n:])
    return out


def _chunk_metrics(config, values, avalues, dvalues) -> dict:
    """The logged losses of every run after a chunk (teacher grid, alignment runs, digits)."""
    metrics = {}
    for j, a in enumerate(config.alphas):
        metrics[f"alpha={a:g}/train"] = values["train"][j]
        metrics[f"alpha={a:g}/test"] = values["test"][j]
    for j, g in enumerate(config.align_mix):
        metrics[f"align_mix={g:g}/train"] = avalues["train"][j]
        metrics[f"align_mix={g:g}/test"] = avalues["test"][j]
    for j, a in enumerate(config.digits.alphas):
        metrics[f"digits/alpha={a:g}/train"] = dvalues["train"][j]
        metrics[f"digits/alpha={a:g}/test_acc"] = dvalues["test_acc"][j]
    return metrics


def make_chunk_step(config):
    """Jitted (state, task) -> (state after ``log_every`` GD steps of every run and the digits steps, metrics).

    GD runs in the exact reduced coordinates (A, b) of model.py. The task arrays are an argument (not
    closed-over constants), so XLA does not constant-fold them.
    """
    alphas = jnp.asarray(config.alphas, jnp.float64)
    d_alphas = jnp.asarray(config.digits.alphas, jnp.float64)

    @jax.jit
    def chunk_step(state: State, task):
        c = state.step
        step0 = c * config.log_every
        grid_run = functools.partial(_teacher_chunk, config, task, step0)
        align_run = functools.partial(_alignment_chunk, config, task, step0)
        A, b, t_tr, t_te, t_pl, te_pl = jax.vmap(grid_run)(state.A, state.b, state.t_tr, state.t_te,
                                                           state.t_tr_plateau, state.te_at_plateau, alphas)
        aA, ab, at_tr, at_te = jax.vmap(align_run)(state.al_A, state.al_b, state.al_t_tr, state.al_t_te,
                                                    task["y_al"], task["yt_al"])
        dig = jax.vmap(functools.partial(_digits_chunk, config, task))(state.dig, d_alphas)
        # one snapshot call on [state before the chunk; state after]: the "before" half fills point 0 of the
        # curves in the first chunk (traced once, so the step compiles once per snapshot kind)
        snap = jax.vmap(lambda A, b, a: _snapshot(A, b, task, a, config))
        asnap = jax.vmap(lambda A, b, ya, yta: _al_snapshot(A, b, ya, yta, task, config))
        dsnap = jax.vmap(lambda p, a: _dig_snapshot(p, task, a))
        two = lambda u, w: jnp.concatenate([u, w])
        R, Ra, Rd = len(config.alphas), len(config.align_mix), len(config.digits.alphas)
        sv = snap(two(state.A, A), two(state.b, b), two(alphas, alphas))
        av = asnap(two(state.al_A, aA), two(state.al_b, ab), two(task["y_al"], task["y_al"]),
                   two(task["yt_al"], task["yt_al"]))
        dv = dsnap(jax.tree.map(two, state.dig, dig), two(d_alphas, d_alphas))
        new = State(step=c + 1, A=A, b=b, t_tr=t_tr, t_te=t_te, t_tr_plateau=t_pl, te_at_plateau=te_pl,
                    curves=_update_curves(state.curves, sv, R, c), al_A=aA, al_b=ab, al_t_tr=at_tr,
                    al_t_te=at_te, al_curves=_update_curves(state.al_curves, av, Ra, c), dig=dig,
                    dig_curves=_update_curves(state.dig_curves, dv, Rd, c))
        metrics = _chunk_metrics(config, {k: v[R:] for k, v in sv.items()}, {k: v[Ra:] for k, v in av.items()},
                                 {k: v[Rd:] for k, v in dv.items()})
        return new, metrics

    return chunk_step


def train_and_evaluate(config, workdir: str):
    """Runs (or resumes) all GD runs in chunks with checkpoints, then evaluates."""
    with jax.enable_x64(True):
        task = build_task(config)
        checkpointer = ckpt_lib.Checkpointer(workdir, config, save_every=config.checkpoint_every,
                                             resumable=RESUMABLE_KEYS)
        writer = metrics_lib.MetricsWriter(workdir)
        state = checkpointer.restore_or(initial_state(config, task))
        state = training.run_loop(state, make_chunk_step(config), lambda step: task,
                                  num_steps=num_chunks(config), checkpointer=checkpointer, writer=writer,
                                  log_every=1, name="grokking_lazy_rich chunks")
        checkpointer.close()
        writer.close()
    return evaluate(config, workdir)


# ----------------------------------------------------------------------------- evaluation

def load_state(config, workdir: str, task) -> State:
    checkpointer = ckpt_lib.Checkpointer(workdir, config, save_every=config.checkpoint_every, resumable=RESUMABLE_KEYS)
    if checkpointer.latest_step() is None:
        raise FileNotFoundError(f"no checkpoint in {workdir}: run papers.grokking_lazy_rich.train first")
    state = checkpointer.restore_or(initial_state(config, task))
    checkpointer.close()
    if int(state.step) < num_chunks(config):
        raise RuntimeError(f"{workdir} holds {int(state.step)}/{num_chunks(config)} chunks: run train again")
    return state


def delay_ratio(t_tr: int, t_te: int, steps: int) -> tuple[float, bool]:
    """(t_te / t_tr, exact?). If the test loss never crossed, (steps / t_tr, False) is a lower bound."""
    t_tr = max(int(t_tr), 1) if t_tr >= 0 else -1
    if t_tr < 0:
        return float("nan"), False
    if t_te < 0:
        return steps / t_tr, False
    return max(int(t_te), 1) / t_tr, True


def first_logged_crossing(curve, threshold: float, log_every: int) -> int:
    """First logged GD step (c * log_every, c >= 1) with curve[c] < threshold * curve[0]; -1 if none.
    ``curve`` [C + 1] holds the loss after c chunks of ``log_every`` steps."""
    below = np.flatnonzero(np.asarray(curve)[1:] < threshold * curve[0])
    return int(below[0] + 1) * log_every if below.size else -1


def curve_shape(train, test, log_every: int, steps: int, threshold: float) -> dict:
    """Eval-only diagnostics of one run's stored train/test curves (resolution: log_every steps).

    ``train_fit_step``: first logged step with the train loss below ``threshold`` x initial;
    ``test_rel_at_train_fit``: the test loss there over its initial value (near 1 for the paper's picture, a
    test loss still at its plateau when the train loss is fit; well below 1 for a test loss already falling);
    ``min_test_rel``: the lowest test loss of the run over its initial value;
    ``delay``: the delay ratio t_te / t_tr of the first logged crossings at each of DIAGNOSTIC_THRESHOLDS.
    """
    train, test = np.asarray(train), np.asarray(test)
    fit = first_logged_crossing(train, threshold, log_every)
    delay = {}
    for thr in DIAGNOSTIC_THRESHOLDS:
        t_tr, t_te = (first_logged_crossing(c, thr, log_every) for c in (train, test))
        ratio, exact = delay_ratio(t_tr, t_te, steps)
        delay[f"{thr:g}"] = {"t_tr": t_tr, "t_te": t_te, "ratio": ratio, "exact": exact}
    return {"train_fit_step": fit,
            "test_rel_at_train_fit": float(test[fit // log_every] / test[0]) if fit > 0 else float("nan"),
            "min_test_rel": float(test.min() / test[0]), "delay": delay}


@functools.partial(jax.jit, static_argnums=(1, 2))
def _gaussian_inputs(key, size: int, dim: int):
    """[size, dim] fresh inputs x ~ N(0, I/D)."""
    return jax.random.normal(key, (size, dim), jnp.float64) / jnp.sqrt(dim)


def monte_carlo_test_loss(predict_fn, beta, target_scale, key, n, batch=10000):
    """Mean and standard error of (f(x) - y(x))^2 over n fresh x ~ N(0, I/D)."""
    D = beta.shape[0]
    sq = []
    for i in range(0, n, batch):
        x = _gaussian_inputs(jax.random.fold_in(key, i), min(batch, n - i), D)
        sq.append(np.asarray((predict_fn(x) - model.target(x, beta, target_scale)) ** 2))
    sq = np.concatenate(sq)
    return float(sq.mean()), float(sq.std() / np.sqrt(len(sq)))


_centred_network = jax.jit(model.centred_network)
_kernel_predict = jax.jit(kernel.predict)


@functools.partial(jax.jit, static_argnames="n_align")
def lazy_baselines(W0, X, y, beta, Y_align, ts, eps, c, target_scale, n_align):
    """The lazy references in one compiled function (kernel.py): the linearised model's train and test loss
    after each step count in ``ts`` [T], K0 ridgeless regression (t = inf: its coefficients and test MSE), the
    stability c lambda_max of the linearised GD, and the initial NTK-label alignment of y and of each row of
    ``Y_align`` [G, >= n_align] on the first ``n_align`` training points."""
    lam, U = kernel.kernel_eigh(W0, X, eps)
    test = lambda t: kernel.linearised_test_loss(lam, U, y, c, t, W0, X, beta, eps, target_scale)
    K = model.ntk(W0, X[:n_align], X[:n_align], eps)
    return {"k0_mse": test(jnp.inf), "k0_coefficients": kernel.linearised_coefficients(lam, U, y, c, jnp.inf),
            "stability": c * lam[-1], "k0_align": model.kernel_alignment(K, y[:n_align]),
            "align_runs_alignment": jax.vmap(lambda z: model.kernel_alignment(K, z))(Y_align[:, :n_align]),
            "lin_train": jax.lax.map(lambda t: kernel.linearised_train_loss(lam, U, y, c, t), ts),
            "lin_test": jax.lax.map(test, ts)}


def compute_metrics(config, task, state) -> dict:
    X, y, W0, beta = task["X"], task["y"], task["W0"], task["beta"]
    steps, L, e = config.steps, config.log_every, config.eps
    C = num_chunks(config)
    # lazy baselines: the linearised model (exact GD solution in function space) at every logged step and at
    # each run's plateau step, and K0 regression
    c = 2.0 * config.eta0 / config.n_train
    t_plateau = [int(t) for t in state.t_tr_plateau]
    ts = np.array([k * L for k in range(C + 1)] + [max(t, 0) for t in t_plateau], np.float64)
    base = jax.tree.map(np.asarray, lazy_baselines(W0, X, y, beta, task["y_al"], ts, e, c, config.target_scale,
                                                   n_align=config.align_points))
    k0_mse = float(base["k0_mse"])
    m: dict = {"runs": [], "k0": {"k0_mse": k0_mse, "stability": float(base["stability"]),
                                  "k0_align": float(base["k0_align"])},
               "lin_curves": {"train": base["lin_train"][:C + 1].tolist(), "test": base["lin_test"][:C + 1].tolist()}}
    for j, a in enumerate(config.alphas):
        ratio, exact = delay_ratio(int(state.t_tr[j]), int(state.t_te[j]), steps)
        t_pl = t_plateau[j]
        m["runs"].append({
            "alpha": float(a), "t_tr": int(state.t_tr[j]), "t_te": int(state.t_te[j]),
            "delay_ratio": ratio, "ratio_exact": exact,
            "final_train": float(state.curves["train"][j, -1]), "final_test": float(state.curves["test"][j, -1]),
            "initial_test": float(state.curves["test"][j, 0]),
            "t_train_plateau": t_pl, "test_at_plateau": float(state.te_at_plateau[j]),
            "linearised_test_at_plateau": float(base["lin_test"][C + 1 + j]) if t_pl >= 0 else float("nan"),
            "k0_regression_mse": k0_mse, "initial_ntk_alignment": m["k0"]["k0_align"],
            "final_ntk_alignment": float(state.curves["ntk_align"][j, -1]),
            "curve_shape": curve_shape(state.curves["train"][j], state.curves["test"][j], L, steps,
                                       config.threshold),
        })
        shape = m["runs"][-1]["curve_shape"]
        fit = shape["train_fit_step"]
        shape["test_at_train_fit_over_k0"] = (float(state.curves["test"][j, fit // L]) / k0_mse if fit > 0
                                              else float("nan"))
    # alignment intervention (Fig. 5 style): same network, data and alpha, labels along the top NTK eigenvector
    m["align_runs"] = []
    for j, g in enumerate(config.align_mix):
        ratio, exact = delay_ratio(int(state.al_t_tr[j]), int(state.al_t_te[j]), steps)
        m["align_runs"].append({
            "mix": float(g), "alpha": float(config.align_alpha),
            "initial_ntk_alignment": float(base["align_runs_alignment"][j]),
            "t_tr": int(state.al_t_tr[j]), "t_te": int(state.al_t_te[j]), "delay_ratio": ratio, "ratio_exact": exact,
            "final_train_rel": float(state.al_curves["train"][j, -1] / state.al_curves["train"][j, 0]),
            "final_test_rel": float(state.al_curves["test"][j, -1] / state.al_curves["test"][j, 0]),
            "curve_shape": curve_shape(state.al_curves["train"][j], state.al_curves["test"][j], L, steps,
                                       config.threshold),
        })
    # Closed form vs Monte Carlo: the network at alpha = 1 (or the middle of the grid) and K0 regression.
    key = jax.random.PRNGKey(config.seed + 12345)
    j = min(range(len(config.alphas)), key=lambda i: abs(np.log(config.alphas[i])))
    a = float(config.alphas[j])
    W = model.weights_from_reduced(W0, state.A[j], state.b[j])
    mc, se = monte_carlo_test_loss(functools.partial(_centred_network, W, W0, alpha=a, eps=e), beta,
                                   config.target_scale, key, config.n_monte_carlo)
    cf = float(model.test_loss_of_weights(W, W0, beta, a, e, config.target_scale))
    mc_k, se_k = monte_carlo_test_loss(functools.partial(_kernel_predict, base["k0_coefficients"], W0, X, eps=e),
                                       beta, config.target_scale, jax.random.fold_in(key, 1), config.n_monte_carlo)
    m["monte_carlo"] = {"alpha": a, "network_closed_form": cf, "network_mc": mc, "network_mc_se": se,
                        "k0_closed_form": k0_mse, "k0_mc": mc_k, "k0_mc_se": se_k}
    # digits variant
    dig = []
    for j, a in enumerate(config.digits.alphas):
        tr, te = np.asarray(state.dig_curves["train"][j]), np.asarray(state.dig_curves["test"][j])
        first = lambda c: int(np.argmax(c < config.threshold * c[0])) if np.any(c < config.threshold * c[0]) else -1
        dig.append({"alpha": float(a), "final_train": float(tr[-1]), "final_test": float(te[-1]),
                    "final_test_acc": float(state.dig_curves["test_acc"][j, -1]),
                    "final_train_acc": float(state.dig_curves["train_acc"][j, -1]),
                    "chunk_train_below_threshold": first(tr), "chunk_test_below_threshold": first(te)})
    m["digits"] = dig
    return m


def _fmt_ratio(r):
    return f"{r['delay_ratio']:.1f}" if r["ratio_exact"] else f">={r['delay_ratio']:.1f}"


def _fit_note(r) -> str:
    """Where the test loss stands when the train loss is fit (curve_shape), for the claims' 'ours' text."""
    sh = r["curve_shape"]
    return f"test at the train fit (step {sh['train_fit_step']}) {sh['test_rel_at_train_fit']:.0%} of initial"


def build_claims(config, m: dict) -> list[claims_lib.Claim]:
    grid = sorted(m["runs"], key=lambda r: r["alpha"])
    cl = []
    # 1. grokking grows with alpha
    small_ok = grid[0]["ratio_exact"] and grid[0]["delay_ratio"] <= 2.0
    groks = [r for r in grid if r["ratio_exact"] and r["delay_ratio"] >= 10.0]
    # lower bounds (test loss never crossed) cannot contradict monotonicity; compare the exact ratios only
    ratios = [r["delay_ratio"] for r in grid if r["ratio_exact"]]
    monotone = all(b >= 0.9 * a for a, b in zip(ratios, ratios[1:]))
    cl.append(claims_lib.Claim(
        "1_grokking_vs_alpha",
        f"t_te/t_tr (first step below {config.threshold:g} x initial loss) <= 2 at the smallest alpha, >= 10 with "
        "the test loss actually falling at a large alpha, non-decreasing over the alpha grid",
        "grokking at large alpha, none at small alpha (Fig. 1, 3a)",
        "; ".join(f"a={r['alpha']:g}: t_tr={r['t_tr']}, t_te={r['t_te']}, ratio {_fmt_ratio(r)}" for r in grid)
        + "".join(f"; a={r['alpha']:g}: {_fit_note(r)}, K0 regression "
                  f"{r['k0_regression_mse'] / r['initial_test']:.0%}" for r in groks),
        small_ok and bool(groks) and monotone))
    # 2. plateau = K0 regression
    lazy = grid[-1]
    rel = abs(lazy["test_at_plateau"] / lazy["k0_regression_mse"] - 1.0)
    rel_lin = abs(lazy["test_at_plateau"] / lazy["linearised_test_at_plateau"] - 1.0)
    cl.append(claims_lib.Claim(
        "2_plateau_is_k0_regression",
        f"at the laziest alpha={lazy['alpha']:g}, the test loss when the train loss first reaches "
        f"{config.plateau_threshold:g} x initial equals the K0 kernel-regression test MSE and the linearised "
        "model's test loss at that step, each within 10%",
        "plateau at the K0 regression MSE (Fig. 1)",
        f"plateau {lazy['test_at_plateau']:.4f} at step {lazy['t_train_plateau']}; K0 regression "
        f"{lazy['k0_regression_mse']:.4f} (rel. diff {rel:.1%}); linearised model at that step "
        f"{lazy['linearised_test_at_plateau']:.4f} (rel. diff {rel_lin:.1%}); lowest test loss of this run "
        f"{lazy['curve_shape']['min_test_rel']:.0%} of initial",
        lazy["t_train_plateau"] >= 0 and rel <= 0.10 and rel_lin <= 0.10))
    # 3. closed form vs Monte Carlo
    mc = m["monte_carlo"]
    ok, parts = True, []
    for name in ("network", "k0"):
        cf, est, se = mc[f"{name}_closed_form"], mc[f"{name}_mc"], mc[f"{name}_mc_se"]
        tol = max(0.03 * cf, 4.0 * se)
        ok = ok and abs(cf - est) <= tol
        parts.append(f"{name}: closed form {cf:.5f} vs MC {est:.5f} +- {se:.5f}")
    cl.append(claims_lib.Claim(
        "3_closed_form_matches_monte_carlo",
        f"test loss from (v, M) equals the Monte-Carlo test loss on {config.n_monte_carlo} fresh points "
        "(within max(3%, 4 standard errors)); network at alpha=" + f"{mc['alpha']:g} and K0 regression",
        "sufficient statistics determine the test loss (Sec. 3)", "; ".join(parts), ok))
    # 4. alignment removes grokking (labels moved onto the top eigenvector of the initial NTK)
    sweep = sorted(m["align_runs"], key=lambda r: r["mix"])
    aligns = [r["initial_ntk_alignment"] for r in sweep]
    align_up = all(b > a for a, b in zip(aligns, aligns[1:]))
    base_groks = sweep[0]["ratio_exact"] and sweep[0]["delay_ratio"] >= 10.0
    removed = sweep[-1]["ratio_exact"] and sweep[-1]["delay_ratio"] <= 2.0
    cl.append(claims_lib.Claim(
        "4_alignment_removes_grokking",
        f"at alpha={config.align_alpha:g}, moving the labels from the quadratic teacher (mix 0) onto the top "
        "eigenvector of the initial NTK (mix 1) raises the initial NTK-label alignment; the delay ratio (held-out "
        "test loss) goes from >= 10 (test falling below threshold) at the lowest alignment to <= 2 at the highest",
        "labels on top NTK eigenvectors: no grokking; misaligned labels: grokking (Fig. 5, Sec. 5)",
        "; ".join(f"mix={r['mix']:g}: align {r['initial_ntk_alignment']:.3f}, t_tr={r['t_tr']}, t_te={r['t_te']}, "
                  f"ratio {_fmt_ratio(r)}, {_fit_note(r)}" for r in sweep),
        align_up and base_groks and removed))
    return cl


def plot(config, m: dict, state, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    C = num_chunks(config)
    t = np.arange(C + 1) * config.log_every
    fig, ax = plt.subplots(1, 4, figsize=(22, 4.6))
    cmap = plt.get_cmap("viridis")
    R = len(config.alphas)
    for j, a in enumerate(config.alphas):
        col = cmap(j / max(1, R - 1))
        tr = np.asarray(state.curves["train"][j]); te = np.asarray(state.curves["test"][j])
        ax[0].loglog(t[1:], tr[1:] / tr[0], "--", color=col)
        ax[0].loglog(t[1:], te[1:] / te[0], color=col, label=f"alpha={a:g}")
    lin = m["lin_curves"]
    ax[0].loglog(t[1:], np.asarray(lin["test"][1:]) / lin["test"][0], ":", color="k", label="linearised (test)")
    ax[0].axhline(m["k0"]["k0_mse"] / lin["test"][0], color="r", lw=0.8, label="K0 regression")
    ax[0].axhline(config.threshold, color="gray", lw=0.5)
    ax[0].set_title("train (dashed) / test (solid) loss, relative")
    ax[0].set_xlabel("GD step"); ax[0].legend(fontsize=7)
    grid = sorted(m["runs"], key=lambda r: r["alpha"])
    ax[1].loglog([r["alpha"] for r in grid], [r["delay_ratio"] for r in grid], "o-")
    for r in grid:
        if not r["ratio_exact"]:
            ax[1].annotate("lower bound", (r["alpha"], r["delay_ratio"]), fontsize=7)
    ax[1].axhline(10, color="gray", lw=0.5); ax[1].axhline(2, color="gray", lw=0.5)
    ax[1].set_xlabel("alpha (laziness)"); ax[1].set_ylabel("t_te / t_tr"); ax[1].set_title("grokking delay vs alpha")
    for j, r in enumerate(sorted(m["align_runs"], key=lambda r: r["mix"])):
        jj = list(config.align_mix).index(r["mix"])
        tr = np.asarray(state.al_curves["train"][jj]); te = np.asarray(state.al_curves["test"][jj])
        ax[2].loglog(t[1:], tr[1:] / tr[0], "--", color=f"C{j}")
        ax[2].loglog(t[1:], te[1:] / te[0], color=f"C{j}",
                     label=f"mix={r['mix']:g}: align {r['initial_ntk_alignment']:.2f}, ratio {_fmt_ratio(r)}")
    ax[2].axhline(config.threshold, color="gray", lw=0.5)
    ax[2].set_xlabel("GD step"); ax[2].legend(fontsize=7)
    ax[2].set_title(f"labels moved onto the top NTK eigenvector (alpha={config.align_alpha:g})")
    j = min(range(R), key=lambda n: abs(np.log(config.alphas[n] / config.align_alpha)))
    for k in ("linear", "variance", "alignment", "test"):
        ax[3].loglog(t[1:], np.asarray(state.curves[k][j])[1:], label=k)
    ax3b = ax[3].twinx()
    ax3b.semilogx(t[1:], np.asarray(state.curves["ntk_align"][j])[1:], "g--", label="NTK-label alignment")
    ax3b.legend(fontsize=7, loc="lower left")
    ax[3].set_title(f"test-loss components, alpha={config.alphas[j]:g}"); ax[3].legend(fontsize=7)
    ax[3].set_xlabel("GD step")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_digits(config, state, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    C = num_chunks(config)
    t = np.arange(C + 1) * config.digits.steps_per_chunk
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    for j, a in enumerate(config.digits.alphas):
        col = f"C{j}"
        ax[0].loglog(t[1:], np.asarray(state.dig_curves["train"][j])[1:], "--", color=col)
        ax[0].loglog(t[1:], np.asarray(state.dig_curves["test"][j])[1:], color=col, label=f"alpha={a:g}")
        ax[1].semilogx(t[1:], np.asarray(state.dig_curves["train_acc"][j])[1:], "--", color=col)
        ax[1].semilogx(t[1:], np.asarray(state.dig_curves["test_acc"][j])[1:], color=col, label=f"alpha={a:g}")
    ax[0].set_title("digits: train (dashed) / test loss"); ax[1].set_title("digits: accuracy")
    ax[0].legend(); ax[1].legend()
    fig.tight_layout(); fig.savefig(path, dpi=90); plt.close(fig)


def evaluate(config, workdir: str) -> dict:
    """Reads the finished runs, adds the lazy baselines and the Monte-Carlo check, writes eval.json + figures."""
    with jax.enable_x64(True):
        task = build_task(config)
        state = jax.tree.map(np.asarray, load_state(config, workdir, task))   # host copies: indexing is free
        m = compute_metrics(config, task, state)
        cl = build_claims(config, m)
        figures = []
        if distributed.is_chief():
            for name, fn in (("grokking_phase.png", lambda p: plot(config, m, state, p)),
                             ("digits.png", lambda p: plot_digits(config, state, p))):
                p = os.path.join(workdir, name)
                fn(p)
                figures.append(p)
        return claims_lib.write_eval(workdir, m, cl, figures)
