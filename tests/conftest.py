"""Fixtures shared by the repo-wide tests."""
import pytest

from tests.helpers import run_python

HOPFIELD_TRAIN = ["-m", "papers.hopfield_layers.train", "--config=papers/hopfield_layers/configs/default.py:smoke"]


@pytest.fixture(scope="session")
def hopfield_smoke_run(tmp_path_factory):
    """One uninterrupted single-process smoke run of hopfield_layers' train binary (its workdir)."""
    workdir = tmp_path_factory.mktemp("hopfield_smoke") / "run"
    run_python(HOPFIELD_TRAIN + [f"--workdir={workdir}"])
    return workdir
