"""The launch/ scripts: syntax, the local multi-process path, failure handling, dry runs, fork, reproduce."""
import glob
import os
import stat
import subprocess
import sys
import time

import pytest

from tests.helpers import ROOT, run_python

SCRIPTS = sorted(glob.glob(os.path.join(ROOT, "launch", "*.sh"))) + [
    os.path.join(ROOT, "launch", "slurm.sbatch"), os.path.join(ROOT, ".ci", "run")]
EXPECTED_SUM = float(sum(i * i for i in range(24)))


@pytest.mark.parametrize("script", SCRIPTS, ids=os.path.basename)
def test_shell_scripts_parse(script):
    subprocess.run(["bash", "-n", script], check=True)


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_") and k != "XLA_FLAGS"}
    env.update(extra)
    return env


def test_cpu_cluster_two_processes_agree_with_one(tmp_path):
    cmd = [os.path.join(ROOT, "launch", "cpu_cluster.sh"), "2", "--", sys.executable,
           "-m", "tests.fixtures.distributed_sum"]
    proc = subprocess.run(cmd, cwd=ROOT, env=_clean_env(LOG_DIR=str(tmp_path), TIMEOUT="120"),
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    logs = [(tmp_path / f"process_{i}.log").read_text() for i in range(2)]
    for i, log in enumerate(logs):
        assert f"RESULT process={i} count=2 sum={EXPECTED_SUM:.1f} chief={i == 0}" in log, log
    single = run_python(["-m", "tests.fixtures.distributed_sum"]).stdout
    assert f"RESULT process=0 count=1 sum={EXPECTED_SUM:.1f} chief=True" in single


def test_cpu_cluster_stops_the_others_when_one_fails(tmp_path):
    script = ("import os, sys, time\n"
              "if os.environ['JAX_PROCESS_ID'] == '1': sys.exit(3)\n"
              "time.sleep(120)\n")
    t0 = time.time()
    proc = subprocess.run([os.path.join(ROOT, "launch", "cpu_cluster.sh"), "2", "--", sys.executable, "-c", script],
                          cwd=ROOT, env=_clean_env(LOG_DIR=str(tmp_path)), capture_output=True, text=True,
                          timeout=100)
    assert proc.returncode == 3
    assert time.time() - t0 < 60
    assert "stopping the others" in proc.stderr


def _free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_process_without_coordinator_stops_with_clear_error():
    """Process 1 of 2 with nobody listening at the coordinator: a clear error after JAX_INIT_TIMEOUT, no hang."""
    env = {"JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{_free_port()}", "JAX_NUM_PROCESSES": "2",
           "JAX_PROCESS_ID": "1", "JAX_INIT_TIMEOUT": "3"}
    t0 = time.time()
    proc = run_python(["-m", "tests.fixtures.distributed_sum"], env_extra=env, timeout=120, check=False)
    assert proc.returncode != 0 and "RESULT" not in proc.stdout
    assert "could not join the JAX cluster: no coordinator answered at 127.0.0.1:" in proc.stderr, proc.stderr[-3000:]
    assert "within 3 s" in proc.stderr and "JAX_INIT_TIMEOUT" in proc.stderr
    assert time.time() - t0 < 90


def test_coordinator_port_in_use_is_refused():
    """Process 0 whose coordinator port is held by another program says so before jax tries to bind it."""
    import socket
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        env = {"JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{holder.getsockname()[1]}", "JAX_NUM_PROCESSES": "2",
               "JAX_PROCESS_ID": "0", "JAX_INIT_TIMEOUT": "3"}
        proc = run_python(["-m", "tests.fixtures.distributed_sum"], env_extra=env, timeout=120, check=False)
    assert proc.returncode != 0 and "RESULT" not in proc.stdout
    assert "process 0 cannot host the JAX coordinator on port" in proc.stderr, proc.stderr[-3000:]


@pytest.mark.parametrize("env, message", [
    ({"JAX_NUM_PROCESSES": "two", "JAX_PROCESS_ID": "0"}, "JAX_NUM_PROCESSES='two' is not an integer"),
    ({"JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "2"}, "JAX_PROCESS_ID=2 must lie in [0, JAX_NUM_PROCESSES=2)"),
    ({"JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "0", "JAX_INIT_TIMEOUT": "0"}, "JAX_INIT_TIMEOUT must be positive"),
    ({"JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "0", "JAX_COORDINATOR_ADDRESS": "nohostport"}, "must be host:port"),
])
def test_bad_launcher_environment_is_refused(monkeypatch, env, message):
    from common import distributed
    monkeypatch.setattr(distributed, "_initialized", False)
    monkeypatch.setenv("JAX_COORDINATOR_ADDRESS", "127.0.0.1:1")
    monkeypatch.delenv("JAX_INIT_TIMEOUT", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(RuntimeError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        distributed.initialize()


def test_cpu_cluster_rejects_bad_usage():
    proc = subprocess.run([os.path.join(ROOT, "launch", "cpu_cluster.sh"), "two", "--", "true"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "positive integer" in proc.stderr


def test_tpu_pod_dry_run_targets_all_workers():
    proc = subprocess.run([os.path.join(ROOT, "launch", "tpu_pod.sh"), "--tpu", "pod", "--zone", "z1", "--",
                           "python", "-m", "papers.x.train", "--workdir=gs://b/r"],
                          cwd=ROOT, env=_clean_env(DRY_RUN="1"), capture_output=True, text=True, check=True)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("DRY_RUN:")]
    assert len(lines) == 4
    assert all("--worker=all" in l for l in lines[1:])
    assert "tpu_host_setup.sh" in lines[2] and "JAX_AUTO_DISTRIBUTED=1" in lines[3]
    assert "ConnectTimeout" in lines[3] and "timeout" in lines[3]


def test_tpu_host_setup_is_idempotent_when_stamped(tmp_path):
    (tmp_path / "requirements.txt").write_text("jax==0.10.2\n")
    digest = subprocess.run(["sha256sum", str(tmp_path / "requirements.txt")], capture_output=True,
                            text=True, check=True).stdout[:16]
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / f".tpu_installed_{digest}").touch()
    proc = subprocess.run(["bash", os.path.join(ROOT, "launch", "tpu_host_setup.sh"), str(tmp_path)],
                          capture_output=True, text=True, check=True)
    assert "up to date" in proc.stdout


def test_slurm_script_sets_the_distributed_environment(tmp_path):
    """Runs launch/slurm.sbatch with stand-ins for srun/scontrol that start the tasks locally."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "scontrol").write_text("#!/usr/bin/env bash\necho 127.0.0.1\n")
    (bin_dir / "srun").write_text(
        "#!/usr/bin/env bash\n"
        "while [[ \"$1\" == --* ]]; do shift; done\n"
        "for ((i = 0; i < SLURM_NTASKS; i++)); do SLURM_PROCID=$i \"$@\" > \"$LOG_DIR/task_$i.log\" 2>&1 & done\n"
        "wait\n")
    for f in bin_dir.iterdir():
        f.chmod(f.stat().st_mode | stat.S_IEXEC)
    venv_python = os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(ROOT) else None
    if venv_python != os.path.join(".venv", "bin", "python"):
        pytest.skip("needs the repo's .venv (make test creates it)")
    port = str(20000 + os.getpid() % 20000)
    env = _clean_env(PATH=f"{bin_dir}:{os.environ['PATH']}", SLURM_JOB_NODELIST="node1", SLURM_NTASKS="2",
                     SLURM_SUBMIT_DIR=ROOT, JAX_PORT=port, LOG_DIR=str(tmp_path))
    subprocess.run(["bash", os.path.join(ROOT, "launch", "slurm.sbatch"), "python",
                    "-m", "tests.fixtures.distributed_sum"], env=env, check=True, timeout=180)
    for i in range(2):
        log = (tmp_path / f"task_{i}.log").read_text()
        assert f"RESULT process={i} count=2 sum={EXPECTED_SUM:.1f}" in log, log


def test_reproduce_rejects_unknown_paper():
    proc = run_python(["-m", "launch.reproduce", "no_such_paper", "--config", "smoke"], check=False)
    assert proc.returncode != 0 and "unknown paper 'no_such_paper'" in proc.stderr


def test_reproduce_update_readme_refuses_workdirs_it_would_resume(tmp_path):
    """Timings written into README.md must come from fresh runs: an earlier run in the workdir is refused."""
    (tmp_path / "hopfield_layers" / "checkpoints").mkdir(parents=True)
    readme = open(os.path.join(ROOT, "README.md")).read()
    proc = run_python(["-m", "launch.reproduce", "--all", "--config", "smoke", "--workdir", str(tmp_path),
                       "--update-readme"], check=False, timeout=60)
    assert proc.returncode == 2 and "already holds runs of hopfield_layers" in proc.stderr, proc.stderr[-2000:]
    assert open(os.path.join(ROOT, "README.md")).read() == readme
    assert sorted(os.listdir(tmp_path)) == ["hopfield_layers"]


def test_status_table_marks_resumed_runs():
    from launch import reproduce
    rows = reproduce.status_table([
        {"paper": "hopfield_layers", "claims": [{"passed": True}], "error": None, "train_seconds": 3.0,
         "eval_seconds": 1.0, "resumed": True},
        {"paper": "fastpam", "claims": [{"passed": False}], "error": None, "train_seconds": 20.0,
         "eval_seconds": 2.0, "resumed": False}]).splitlines()
    assert rows[2].endswith("| 1/1 | 4 s (resumed an earlier run) |") and rows[3].endswith("| 0/1 | 22 s |")


def test_fork_refuses_nonempty_destination(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    proc = run_python(["-m", "launch.fork", "any", str(tmp_path)], check=False)
    assert proc.returncode != 0
    assert (tmp_path / "keep.txt").read_text() == "mine"
