"""A forked hopfield_layers passes its own tests outside this repository."""
import os

from tests.helpers import run_python


def test_fork_passes_its_tests_standalone(tmp_path):
    dest = tmp_path / "hopfield_fork"
    run_python(["-m", "launch.fork", "hopfield_layers", str(dest)])
    for name in ("Makefile", "requirements.txt", "README.md", ".ci/run", "common/checkpoint.py",
                 "papers/hopfield_layers/train.py"):
        assert (dest / name).exists(), name
    assert not (dest / "tests").exists()
    others = [d for d in os.listdir(dest / "papers") if d not in ("hopfield_layers", "__init__.py")]
    assert others == []
    proc = run_python(["-m", "pytest", "-q", "-x", "papers/hopfield_layers"], cwd=str(dest),
                      env_extra={"PYTHONPATH": ""}, timeout=600)
    assert " passed" in proc.stdout
    # The fork imported its own common/, not this repo's.
    probe = run_python(["-c", "import common, os; print(os.path.dirname(common.__file__))"], cwd=str(dest))
    assert probe.stdout.strip() == str(dest / "common")
