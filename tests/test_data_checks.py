"""Every paper whose configs read a data set checks it before any work (``experiment.check_data``, run by the
train binary through ``common.binary.main``), naming the config key to set."""
import importlib

import numpy as np
import pytest

from common import data as data_lib
from tests.helpers import papers, run_python

# paper -> the config keys of its paper variant that point at data sets
DATA_KEYS = {
    "dpm_solver": ["data.data_dir"],
    "ef21_weighted": ["logreg.data_dir"],
    "fasterpam": ["data_dir"],
    "fastpam": ["data_dir"],
    "grokking_lazy_rich": ["digits.data_dir"],
    "hopfield_layers": ["mil.data_dir"],
    "model_collapse_accumulate": ["data_dir"],
    "monotone_dbm": ["data.data_dir"],
    "mup_feature_learning": ["digits.data_dir", "w2v.data_dir"],
    "neural_des": ["cde.data_dir"],
    "sinkhorn_newton_sparse": ["images.data_dir"],
    "stochastic_interpolants": ["images.data_dir"],
}
# data_dir keys the paper variant does not read (the synthetic few-shot family generates its tasks; its
# section shares one builder with the Omniglot section, so it carries the key)
UNREAD_KEYS = {"mup_feature_learning": ["synthetic.data_dir"]}


def _config(slug, variant):
    return importlib.import_module(f"papers.{slug}.configs.default").get_config(variant)


def _set(cfg, dotted, value):
    *path, last = dotted.split(".")
    for part in path:
        cfg = cfg[part]
    cfg[last] = value


def _keys_named_data_dir(cfg, prefix=""):
    out = []
    for k, v in cfg.items():
        if hasattr(v, "items"):
            out += _keys_named_data_dir(v, f"{prefix}{k}.")
        elif k == "data_dir":
            out.append(prefix + k)
    return out


@pytest.mark.parametrize("slug", papers())
def test_every_data_key_is_checked_by_the_train_binary(slug):
    keys = _keys_named_data_dir(_config(slug, "paper"))
    assert sorted(keys) == sorted(DATA_KEYS.get(slug, []) + UNREAD_KEYS.get(slug, [])), f"{slug}: data keys {keys}"
    train_source = open(importlib.import_module(f"papers.{slug}.train").__file__).read()
    assert ("check_data=experiment.check_data" in train_source) == bool(keys)


@pytest.mark.parametrize("slug", sorted(DATA_KEYS))
def test_paper_config_without_its_data_names_every_missing_key(slug, tmp_path):
    cfg = _config(slug, "paper")
    for key in DATA_KEYS[slug]:
        _set(cfg, key, str(tmp_path / "empty"))
    experiment = importlib.import_module(f"papers.{slug}.experiment")
    with pytest.raises(data_lib.DataNotFoundError) as err:
        experiment.check_data(cfg)
    message = str(err.value)
    assert "nothing was run" in message
    for key in DATA_KEYS[slug]:
        assert f"config.{key}" in message, message


@pytest.mark.parametrize("slug", sorted(DATA_KEYS))
@pytest.mark.parametrize("variant", ["smoke", "small"])
def test_offline_configs_need_no_user_data(slug, variant):
    importlib.import_module(f"papers.{slug}.experiment").check_data(_config(slug, variant))


def test_train_binary_stops_before_the_first_unit(tmp_path):
    """model_collapse's paper config runs hours of linear/Gaussian units before its VAE needs MNIST."""
    workdir = tmp_path / "w"
    proc = run_python(["-m", "papers.model_collapse_accumulate.train",
                       "--config=papers/model_collapse_accumulate/configs/default.py:paper",
                       f"--config.data_dir={tmp_path / 'no_data'}", f"--workdir={workdir}"], check=False, timeout=120)
    assert proc.returncode != 0
    assert "DataNotFoundError" in proc.stderr and "config.data_dir (vae.dataset='mnist')" in proc.stderr
    assert "config.data_dir (lm.corpus='tinystories')" in proc.stderr
    assert not workdir.exists()


def test_check_data_only_flag_checks_without_a_workdir(tmp_path):
    ok = run_python(["-m", "papers.fastpam.train", "--config=papers/fastpam/configs/default.py:small",
                     "--check_data_only"], timeout=120)
    assert "data check passed" in ok.stdout
    missing = run_python(["-m", "papers.fastpam.train", "--config=papers/fastpam/configs/default.py:paper",
                          f"--config.data_dir={tmp_path / 'none'}", "--check_data_only"], check=False, timeout=120)
    assert missing.returncode != 0 and "config.data_dir: MNIST directory" in missing.stderr
    no_workdir = run_python(["-m", "papers.fastpam.train", "--config=papers/fastpam/configs/default.py:smoke"],
                            check=False, timeout=120)
    assert no_workdir.returncode != 0 and "--workdir is required" in no_workdir.stderr
    assert list(tmp_path.iterdir()) == []


def test_check_all_lists_every_failure_and_passes_when_present(tmp_path):
    present = tmp_path / "here.txt"
    present.write_text("x")
    data_lib.check_all({"a.data_dir": lambda: data_lib.require_path(str(present), "here", "")})
    with pytest.raises(data_lib.DataNotFoundError) as err:
        data_lib.check_all({"a.data_dir": lambda: data_lib.require_path(str(present), "here", ""),
                            "b.data_dir": lambda: data_lib.require_path(str(tmp_path / "x"), "set X", "Get it."),
                            "c.data_dir": lambda: data_lib.require_path("", "set Y", "Get that.")})
    lines = str(err.value).splitlines()
    assert len(lines) == 3 and "config.a.data_dir" not in str(err.value)
    assert lines[1].strip().startswith("config.b.data_dir: set X not found at") and lines[1].endswith("Get it.")
    assert lines[2].strip() == "config.c.data_dir: set Y not found at ''. Get that."


def test_cifar10_files_are_located_and_sized_without_reading(tmp_path):
    with pytest.raises(data_lib.DataNotFoundError, match="does not exist"):
        data_lib.cifar10_files(str(tmp_path / "absent"), "test")
    with pytest.raises(data_lib.DataNotFoundError, match=r"\['test_batch.bin'\] missing"):
        data_lib.cifar10_files(str(tmp_path), "test")
    with open(tmp_path / "test_batch.bin", "wb") as f:
        f.truncate(3073 * 10)                                    # a truncated download
    with pytest.raises(data_lib.DataNotFoundError, match="not 30,730,000 bytes"):
        data_lib.cifar10_files(str(tmp_path), "test")
    with open(tmp_path / "test_batch.bin", "wb") as f:
        f.truncate(3073 * 10000)                                 # sparse file of the right size
    assert data_lib.cifar10_files(str(tmp_path), "test") == ["test_batch.bin"]
    images, labels = data_lib.load_cifar10(str(tmp_path), "test")
    assert images.shape == (10000, 32, 32, 3) and images.dtype == np.uint8 and labels.shape == (10000,)
