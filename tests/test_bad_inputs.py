"""Bad inputs to a real binary give clear errors and never change the workdir."""
import shutil

from tests.helpers import run_python

TRAIN = ["-m", "papers.hopfield_layers.train"]
SMOKE = "--config=papers/hopfield_layers/configs/default.py:smoke"


def _snapshot(path):
    return {p: p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file() and "tb" not in p.parts}


def test_unknown_override_key_fails_at_once(tmp_path):
    proc = run_python(TRAIN + [SMOKE, "--config.mil.no_such_key=1", f"--workdir={tmp_path / 'w'}"], check=False)
    assert proc.returncode != 0 and "no_such_key" in proc.stderr
    assert not (tmp_path / "w").exists()


def test_unknown_variant_names_the_valid_ones(tmp_path):
    proc = run_python(TRAIN + ["--config=papers/hopfield_layers/configs/default.py:smal", f"--workdir={tmp_path}"],
                      check=False)
    assert proc.returncode != 0 and "valid variants" in proc.stderr


def test_other_config_and_corrupt_checkpoint_leave_workdir_untouched(tmp_path, hopfield_smoke_run):
    tmp_path = tmp_path / "run"
    shutil.copytree(hopfield_smoke_run, tmp_path)
    before = _snapshot(tmp_path)
    proc = run_python(TRAIN + [SMOKE + ",seed=1", f"--workdir={tmp_path}"], check=False)
    assert proc.returncode != 0 and "holds a run with another config" in proc.stderr
    assert _snapshot(tmp_path) == before
    ckpt_files = [p for p in before if "checkpoints" in p.parts and p.stat().st_size > 0]
    assert ckpt_files
    for p in ckpt_files:
        p.write_bytes(b"not a checkpoint")
    corrupted = _snapshot(tmp_path)
    proc = run_python(TRAIN + [SMOKE, f"--workdir={tmp_path}"], check=False)
    assert proc.returncode != 0 and "cannot be restored" in proc.stderr
    assert _snapshot(tmp_path) == corrupted


def test_missing_data_set_is_a_clear_error_before_any_work(tmp_path):
    proc = run_python(TRAIN + ["--config=papers/hopfield_layers/configs/default.py:paper",
                               f"--config.mil.data_dir={tmp_path / 'no_data'}", f"--workdir={tmp_path / 'w'}"],
                      check=False, timeout=120)
    assert proc.returncode != 0
    assert "DataNotFoundError" in proc.stderr and "config.mil.data_dir" in proc.stderr
    assert not (tmp_path / "w" / "checkpoints").exists() and not (tmp_path / "w" / "results").exists()


def test_eval_on_a_workdir_without_a_run_writes_nothing(tmp_path):
    workdir = tmp_path / "typo"
    proc = run_python(["-m", "papers.hopfield_layers.eval", SMOKE, f"--workdir={workdir}"], check=False)
    assert proc.returncode != 0 and "holds no run" in proc.stderr
    assert "papers.hopfield_layers.train" in proc.stderr
    assert not workdir.exists()
