"""Unit tests of common/: config parsing, checkpoint guards, metrics, data, sharding errors."""
import gzip
import json
import os

import flax
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from common import checkpoint, claims, config, data, metrics, sharding, testing, training


def _builders():
    def small():
        c = ml_collections.ConfigDict()
        c.seed = 0
        c.num_steps = 4
        c.checkpoint_every = 2
        c.optim = ml_collections.ConfigDict({"lr": 1e-3, "name": "adam"})
        return c
    return {"smoke": small, "small": small}


def test_config_overrides_and_types():
    cfg = config.build_config("small,seed=3,optim.lr=2,optim.name=sgd", _builders())
    assert (cfg.seed, cfg.optim.lr, cfg.optim.name, cfg.variant) == (3, 2.0, "sgd", "small")
    assert isinstance(cfg.optim.lr, float)


def test_config_tuple_override_keeps_its_commas():
    builders = _builders()
    base = builders["small"]
    builders["small"] = lambda: _with_sizes(base())
    cfg = config.build_config("small,sizes=(100, 200,400),seed=2", builders)
    assert (cfg.sizes, cfg.seed) == ((100, 200, 400), 2)
    with pytest.raises(config.ConfigError, match="unclosed"):
        config.build_config("small,sizes=(100,200", builders)


def _with_sizes(c):
    c.sizes = (1, 2)
    return c


@pytest.mark.parametrize("arg, match", [
    ("huge", "valid variants"), ("small,sed=3", "unknown config key 'sed'"),
    ("small,optim.lrr=1", "unknown config key"), ("small,seed", "key=value"),
    ("small,seed=abc", "is int"),
])
def test_config_errors_name_the_valid_choices(arg, match):
    with pytest.raises(config.ConfigError, match=match):
        config.build_config(arg, _builders())


def test_config_is_locked():
    cfg = config.build_config("small", _builders())
    with pytest.raises(AttributeError):
        cfg.new_key = 1


@flax.struct.dataclass
class _State:
    step: jnp.ndarray
    w: jnp.ndarray
    rng: jnp.ndarray


def _state(step=0, w=1.0):
    return _State(jnp.asarray(step, jnp.int32), jnp.full((3,), w, jnp.float32), jax.random.PRNGKey(7))


def test_checkpoint_roundtrip_and_resume(tmp_path):
    cfg = config.build_config("small", _builders())
    with checkpoint.Checkpointer(str(tmp_path), cfg, save_every=2) as ck:
        assert ck.restore_or(_state()).step == 0
        assert not ck.save(1, _state(1, 3.0))
        assert ck.save(2, _state(2, 5.0))
    with checkpoint.Checkpointer(str(tmp_path), cfg, save_every=2) as ck:
        restored = ck.restore_or(_state())
    assert int(restored.step) == 2
    np.testing.assert_array_equal(restored.w, np.full(3, 5.0, np.float32))
    np.testing.assert_array_equal(restored.rng, jax.random.PRNGKey(7))


def test_checkpoint_refuses_other_config_and_keeps_files(tmp_path):
    cfg = config.build_config("small", _builders())
    with checkpoint.Checkpointer(str(tmp_path), cfg, save_every=2) as ck:
        ck.save(2, _state(2))
    before = (tmp_path / "config.json").read_text()
    other = config.build_config("small,seed=1", _builders())
    with pytest.raises(checkpoint.ConfigMismatchError, match="seed: saved 0, requested 1"):
        checkpoint.Checkpointer(str(tmp_path), other)
    assert (tmp_path / "config.json").read_text() == before
    # Keys listed as resumable may change, unless the paper takes them off the list.
    checkpoint.Checkpointer(str(tmp_path), config.build_config("small,checkpoint_every=5", _builders())).close()
    with pytest.raises(checkpoint.ConfigMismatchError, match="checkpoint_every"):
        checkpoint.Checkpointer(str(tmp_path), config.build_config("small,checkpoint_every=5", _builders()),
                                resumable=())


def test_corrupt_checkpoint_is_a_clear_error_and_not_overwritten(tmp_path):
    cfg = config.build_config("small", _builders())
    with checkpoint.Checkpointer(str(tmp_path), cfg, save_every=2) as ck:
        ck.save(2, _state(2))
    step_dir = tmp_path / "checkpoints" / "2"
    files = [p for p in step_dir.rglob("*") if p.is_file() and p.stat().st_size > 0]
    for p in files:
        p.write_bytes(b"garbage")
    snapshot = {p: p.read_bytes() for p in files}
    with checkpoint.Checkpointer(str(tmp_path), cfg, save_every=2) as ck:
        with pytest.raises(checkpoint.CorruptCheckpointError, match="Nothing was deleted"):
            ck.restore_or(_state())
    assert {p: p.read_bytes() for p in files} == snapshot


def test_metrics_jsonl_appends_and_last_record_wins(tmp_path):
    w = metrics.MetricsWriter(str(tmp_path))
    w.write(1, {"loss": np.float32(2.0)})
    w.write(2, {"loss": 1.0})
    w.write(2, {"loss": 0.5})
    w.close()
    assert [r["loss"] for r in metrics.read_metrics(str(tmp_path))] == [2.0, 0.5]
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 3
    assert any(p.name.startswith("events") for p in (tmp_path / "tb").iterdir())


def test_nan_guard_names_the_step():
    training.check_finite(3, {"loss": 1.0})
    with pytest.raises(training.NonFiniteError, match="step 7"):
        training.check_finite(7, {"loss": 1.0, "grad_norm": float("nan")})


def test_run_loop_resumes_bit_identically(tmp_path):
    def train_step(state, batch):
        w = state.w - 0.1 * (state.w - batch)
        return state.replace(step=state.step + 1, w=w), {"loss": jnp.sum(w ** 2)}

    def get_batch(step):
        return jax.random.normal(jax.random.fold_in(jax.random.PRNGKey(0), step), (3,))

    cfg = config.build_config("small", _builders())
    full = training.run_loop(_state(), jax.jit(train_step), get_batch, num_steps=6, log_every=1)
    with checkpoint.Checkpointer(str(tmp_path), cfg, save_every=2) as ck:
        training.run_loop(_state(), jax.jit(train_step), get_batch, num_steps=4, checkpointer=ck)
    with checkpoint.Checkpointer(str(tmp_path), cfg, save_every=2) as ck:
        resumed = ck.restore_or(_state())
        assert int(resumed.step) == 4
        resumed = training.run_loop(resumed, jax.jit(train_step), get_batch, num_steps=6, checkpointer=ck)
    np.testing.assert_array_equal(np.asarray(full.w), np.asarray(resumed.w))


@flax.struct.dataclass
class _UnitState:
    step: jax.Array
    results: dict


def test_run_units_resumes_after_the_last_saved_unit(tmp_path):
    names = ["a", "b", "c"]
    ran = []

    def run_one(unit):
        ran.append(unit)
        return {"x": jnp.full((2,), float(names.index(unit)))}, {f"{unit}/x": float(names.index(unit))}

    make_initial = lambda: _UnitState(step=jnp.asarray(0, jnp.int32), results={u: {"x": jnp.zeros(2)} for u in names})
    cfg = config.build_config("small", _builders())
    workdir = str(tmp_path)
    with pytest.raises(FileNotFoundError, match="python -m papers.x.train"):
        training.load_finished_units(workdir, cfg, make_initial(), 3, "papers.x.train")
    training.run_units_in(workdir, cfg, make_initial(), names[:2], run_one)
    with pytest.raises(RuntimeError, match="2/3 finished units"):
        training.load_finished_units(workdir, cfg, make_initial(), 3, "papers.x.train")
    state = training.run_units_in(workdir, cfg, make_initial(), names, run_one)
    assert ran == ["a", "b", "c"] and int(state.step) == 3
    loaded = training.load_finished_units(workdir, cfg, make_initial(), 3, "papers.x.train")
    np.testing.assert_array_equal(np.asarray(loaded.results["c"]["x"]), [2.0, 2.0])
    records = metrics.read_metrics(workdir)
    assert [r["step"] for r in records] == [1, 2, 3] and "b/seconds" in records[1]

    # the end-to-end check of work-unit papers: passes for a resumable run, fails for one that redoes work
    run = lambda: training.run_units_in(str(tmp_path / "e2e"), cfg, make_initial(), names, run_one)
    results = testing.assert_units_run_once(run, str(tmp_path / "e2e"), cfg, make_initial, 3)
    np.testing.assert_array_equal(results["b"]["x"], [1.0, 1.0])

    def redo():   # ignores the checkpoint: every call runs all units again
        with checkpoint.Checkpointer(str(tmp_path / "redo"), cfg) as ck:
            writer = metrics.MetricsWriter(str(tmp_path / "redo"))
            training.run_units(make_initial(), names, run_one, checkpointer=ck, writer=writer)
            writer.close()
    with pytest.raises(AssertionError, match="wrote metrics"):
        testing.assert_units_run_once(redo, str(tmp_path / "redo"), cfg, make_initial, 3)


def test_claims_written_and_formatted(tmp_path):
    cs = [claims.Claim("a", "x < y", "1", "0.5", np.bool_(True)), claims.Claim("b", "z", "2", "3", False)]
    rec = claims.write_eval(str(tmp_path), {"x": np.float32(0.5)}, cs)
    saved = json.loads((tmp_path / "eval.json").read_text())
    assert saved == rec and saved["all_passed"] is False and saved["claims"][0]["passed"] is True
    assert "1/2 claims pass" in claims.format_table(cs)


def test_mixture_score_matches_autodiff_and_noising_matches_monte_carlo():
    with jax.enable_x64(True):
        mix = data.GaussianMixture(jnp.array([0.3, 0.7]), jnp.array([[-2.0, 0.0], [2.0, 1.0]]),
                                   jnp.array([[[0.5, 0.1], [0.1, 0.3]], [[0.2, 0.0], [0.0, 0.8]]]))
        x = mix.sample(jax.random.PRNGKey(0), 64)
        auto = jax.vmap(jax.grad(mix.log_prob))(x)
        np.testing.assert_allclose(mix.score(x), auto, rtol=1e-10, atol=1e-10)
        # Density integrates to one on a grid.
        g = jnp.linspace(-8, 8, 401)
        pts = jnp.stack(jnp.meshgrid(g, g), -1).reshape(-1, 2)
        assert abs(float(jnp.sum(jnp.exp(mix.log_prob(pts))) * (g[1] - g[0]) ** 2) - 1) < 1e-6
        # alpha x + sigma eps has the noised mixture's moments.
        alpha, sigma = 0.6, 0.8
        k1, k2 = jax.random.split(jax.random.PRNGKey(1))
        y = alpha * mix.sample(k1, 200_000) + sigma * jax.random.normal(k2, (200_000, 2))
        noised = mix.noised(alpha, sigma)
        mean = jnp.sum(noised.weights[:, None] * noised.means, 0)
        np.testing.assert_allclose(jnp.mean(y, 0), mean, atol=0.02)
        ll_mc = float(jnp.mean(noised.log_prob(y)))
        ll_wrong = float(jnp.mean(mix.log_prob(y)))
        assert ll_mc > ll_wrong


def test_idx_roundtrip_and_missing_data_errors(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    labels = np.array([3, 7], np.uint8)
    header_img = bytes([0, 0, 0x08, 3]) + b"".join(int(n).to_bytes(4, "big") for n in images.shape)
    header_lab = bytes([0, 0, 0x08, 1]) + (2).to_bytes(4, "big")
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(header_img + images.tobytes())
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(header_lab + labels.tobytes())
    x, y = data.load_mnist(str(tmp_path), "train")
    np.testing.assert_allclose(x, images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, [3, 7])
    with pytest.raises(data.DataNotFoundError, match="t10k-images"):
        data.load_mnist(str(tmp_path), "test")
    with pytest.raises(data.DataNotFoundError, match="does not exist"):
        data.load_mnist(str(tmp_path / "absent"))
    with pytest.raises(data.DataNotFoundError, match="cifar-10-binary"):
        data.load_cifar10(str(tmp_path / "absent"))


def test_fashion_mnist_missing_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "FASHION_MNIST_DIRS", (str(tmp_path / "system"),))
    monkeypatch.delenv("DATA_DIR", raising=False)
    with pytest.raises(data.DataNotFoundError, match="apt-get install dataset-fashion-mnist"):
        data.load_fashion_mnist(data_dir=str(tmp_path / "absent"))


def test_digits_loader():
    x, y = data.load_digits()
    assert x.shape == (1797, 8, 8) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert set(np.unique(y)) == set(range(10))
    assert data._sklearn_digits_csv() is not None    # the fast path is the one taken here
    from sklearn.datasets import load_digits as sk_digits   # same arrays as scikit-learn's own loader
    ref = sk_digits()
    np.testing.assert_array_equal(x, (ref.images / 16.0).astype(np.float32))
    np.testing.assert_array_equal(y, ref.target)


def test_clustering_features(tmp_path):
    digits = data.load_digits()[0].reshape(-1, 64)
    x = data.load_clustering_features("digits", 60, seed=3)
    assert x.shape == (60, 64) and x.dtype == np.float64
    rows = [int(np.flatnonzero((digits == r).all(1))[0]) for r in x.astype(np.float32)]
    assert rows == sorted(rows)                        # a subset of the digits, in their order
    np.testing.assert_array_equal(x, data.load_clustering_features("digits", 60, seed=3))
    assert data.load_clustering_features("digits").shape == (1797, 64)
    assert data.load_clustering_features("blobs", 50, dim=3).shape == (50, 3)
    with pytest.raises(data.DataNotFoundError):
        data.load_clustering_features("mnist", 10, data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="choose"):
        data.load_clustering_features("cifar")


def test_kmedoids_records_resume_and_load(tmp_path):
    from common import kmedoids_records as kr
    records, units, add = kr.planner()
    add(("pam", 2, 0), ("fast", 2, 0))
    add(("pam", 3, 1))
    assert records == [("pam", 2, 0), ("fast", 2, 0), ("pam", 3, 1)] and units == [[0, 1], [2]]
    cfg = config.build_config("small", {
        "small": lambda: ml_collections.ConfigDict(dict(checkpoint_every=1, log_every=1))})
    ran = []

    def run_unit(diss, unit):
        ran.append(unit)
        return {j: dict(medoids=[j, j + 1][: records[j][1]], loss=float(j), n_iter=j, n_swap=1, times=[0.1, 0.3])
                for j in unit}

    with jax.enable_x64(True):
        initial = kr.init_results(len(records), 3, repeats=2)
    workdir = str(tmp_path)
    x = np.array([[0.0], [1.0], [5.0], [6.0], [9.0]])
    load_diss = lambda: jnp.asarray(np.abs(x - x.T))
    with pytest.raises(FileNotFoundError, match="python -m papers.x.train"):
        kr.load_table(cfg, workdir, records, 2, initial, "papers.x.train")
    kr.run_units(cfg, workdir, records, units[:1], initial, load_diss, run_unit)
    with pytest.raises(RuntimeError, match="1/2 finished units"):
        kr.load_table(cfg, workdir, records, 2, initial, "papers.x.train")
    assert (np.load(kr.clusterings_path(workdir))["labels"][2] == -1).all()   # record 2 not run yet
    kr.run_units(cfg, workdir, records, units, initial, load_diss, run_unit)
    assert ran == [[0, 1], [2]]                           # the finished unit was not run again
    tab = kr.load_table(cfg, workdir, records, 2, initial, "papers.x.train")
    assert tab[("pam", 3, 1)]["loss"] == 2.0 and tab[("pam", 3, 1)]["time"] == pytest.approx(0.2)
    np.testing.assert_array_equal(tab[("fast", 2, 0)]["medoids"], [1, 2])
    assert kr.table_metrics(tab, 2)["fast/k2/s0/n_iter"] == 1
    saved = np.load(kr.clusterings_path(workdir))         # medoids and labels of every record, no pickle
    assert list(zip(saved["methods"].tolist(), saved["ks"].tolist(), saved["seeds"].tolist())) == records
    np.testing.assert_array_equal(saved["medoids"][1], [1, 2, -1])
    np.testing.assert_array_equal(saved["labels"][1], [0, 0, 1, 1, 1])    # nearest of points 1 and 2
    med, labels = kr.load_clusterings(workdir)[("fast", 2, 0)]
    assert med.tolist() == [1, 2] and labels.tolist() == [0, 0, 1, 1, 1]
    os.remove(kr.clusterings_path(workdir))
    kr.run_units(cfg, workdir, records, units, initial, load_diss, run_unit)   # finished run: file restored
    np.testing.assert_array_equal(np.load(kr.clusterings_path(workdir))["labels"], saved["labels"])
    assert ran == [[0, 1], [2]]


def test_kmedoids_records_interleaved_order_and_rows():
    from common import kmedoids as km, kmedoids_records as kr
    calls = []
    fns = {name: (lambda name=name: calls.append(name) or len(calls)) for name in ("a", "b", "once")}
    res, times = kr.interleaved(fns, repeats=3, once=("once",))
    assert calls == ["a", "b", "once", "a", "b", "a", "b"]     # round by round; "once" only in the first
    assert res == {"a": 6, "b": 7, "once": 3}                   # the last result of each
    assert [len(times[n]) for n in ("a", "b", "once")] == [3, 3, 1] and min(times["a"]) >= 0
    diss = km.pairwise_dissimilarity(jnp.array([[0.0], [1.0], [5.0], [6.0]]), "euclidean", jnp.float32)
    row = kr.row(diss, jnp.array([0, 2]), 3, 1, (0.5,))
    assert float(row["loss"]) == pytest.approx(2.0) and row["times"] == [0.5] and row["n_iter"] == 3
    np.testing.assert_array_equal(row["medoids"], [0, 2])
    assert kr.row(diss, [0, 2], 3, 1, [0.5], loss=7.0)["loss"] == 7.0   # a given loss is kept


def test_mesh_spec_and_batch_divisibility_errors():
    mesh = sharding.make_mesh([("data", -1)])
    assert mesh.shape["data"] == jax.device_count()
    with pytest.raises(sharding.ShardingError, match="at most one axis"):
        sharding.make_mesh([("data", -1), ("model", -1)])
    with pytest.raises(sharding.ShardingError, match="needs a multiple of 3"):
        sharding.make_mesh([("data", 3)], devices=jax.devices() * 2)
    assert sharding.fsdp_spec((1024, 512), mesh, min_size=10) in (jax.sharding.PartitionSpec(),
                                                                  jax.sharding.PartitionSpec("data", None))


def test_assert_rerun_redoes_nothing_catches_new_metrics_and_changed_state(tmp_path):
    workdir = str(tmp_path)
    with open(os.path.join(workdir, "metrics.jsonl"), "w") as f:
        f.write('{"step": 1}\n')
    state = {"step": 1, "x": np.zeros(3)}
    load = lambda: (state["step"], {"x": state["x"].copy()})
    assert testing.assert_rerun_redoes_nothing(lambda: "done", load, workdir) == "done"

    def rerun_writing_metrics():
        with open(os.path.join(workdir, "metrics.jsonl"), "a") as f:
            f.write('{"step": 2}\n')
    with pytest.raises(AssertionError, match="wrote metrics"):
        testing.assert_rerun_redoes_nothing(rerun_writing_metrics, load, workdir)
    with pytest.raises(AssertionError):
        testing.assert_rerun_redoes_nothing(lambda: state.__setitem__("x", np.ones(3)), load, workdir)


def test_has_run_finds_config_in_the_workdir_or_a_subdirectory(tmp_path):
    from common import binary
    assert not binary.has_run(str(tmp_path / "absent"))
    assert not binary.has_run(str(tmp_path))
    (tmp_path / "gauss").mkdir()
    assert not binary.has_run(str(tmp_path))
    (tmp_path / "gauss" / "config.json").write_text("{}")
    assert binary.has_run(str(tmp_path))
    (tmp_path / "config.json").write_text("{}")
    assert binary.has_run(str(tmp_path))


def test_raise_if_invalid_lists_every_problem():
    config.raise_if_invalid([], "x")
    with pytest.raises(config.ConfigError, match=r"invalid x config[\s\S]*a = 1[\s\S]*b = 2"):
        config.raise_if_invalid(["a = 1", "b = 2"], "x")
