"""Train -> hard kill after a checkpoint -> resume ends bit-identical to an uninterrupted run."""
from common.training import PREEMPT_ENV, PREEMPTED_EXIT_CODE
from tests.checkpoints import assert_same_checkpoints, latest_checkpoints
from tests.conftest import HOPFIELD_TRAIN
from tests.helpers import run_python


def test_killed_and_resumed_run_is_bit_identical(tmp_path, hopfield_smoke_run):
    killed = tmp_path / "killed"
    proc = run_python(HOPFIELD_TRAIN + [f"--workdir={killed}"], {PREEMPT_ENV: "4"}, check=False)
    assert proc.returncode == PREEMPTED_EXIT_CODE, proc.stderr[-3000:]
    assert not (killed / "eval.json").exists()
    assert [step for step, _ in latest_checkpoints(killed).values()] == [4]
    run_python(HOPFIELD_TRAIN + [f"--workdir={killed}"])
    assert (killed / "eval.json").exists()
    assert_same_checkpoints(hopfield_smoke_run, killed, exact=True)
