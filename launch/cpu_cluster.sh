#!/usr/bin/env bash
# Starts N local processes of one command with the environment a pod or cluster launcher sets
# (JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES, JAX_PROCESS_ID), so multi-host code runs on one machine.
#
#   launch/cpu_cluster.sh 2 -- python -m papers.hopfield_layers.train --config=...:smoke --workdir=/tmp/mp
#
# Options (environment): PORT (default: a free port), LOG_DIR (per-process logs; default: a temp dir),
# TIMEOUT (seconds, default 600). If one process fails, the others are stopped (no hung launch).
# Exit status: 0 if every process succeeded, else the first non-zero status.
set -euo pipefail

usage() { echo "usage: $0 NUM_PROCESSES -- COMMAND [ARGS...]" >&2; exit 2; }
[ $# -ge 3 ] || usage
num="$1"; shift
[ "$1" = "--" ] || usage
shift
[[ "$num" =~ ^[1-9][0-9]*$ ]] || { echo "NUM_PROCESSES must be a positive integer, got '$num'" >&2; exit 2; }

port="${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
log_dir="${LOG_DIR:-$(mktemp -d -t cpu_cluster.XXXXXX)}"
timeout_s="${TIMEOUT:-600}"
mkdir -p "$log_dir"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

for ((i = 0; i < num; i++)); do
  JAX_COORDINATOR_ADDRESS="127.0.0.1:${port}" JAX_NUM_PROCESSES="$num" JAX_PROCESS_ID="$i" \
  JAX_PLATFORMS="${JAX_PLATFORMS:-cpu}" \
    timeout "$timeout_s" "$@" >"$log_dir/process_$i.log" 2>&1 &
  pids+=("$!")
done
echo "cpu_cluster: $num processes, coordinator 127.0.0.1:${port}, logs in $log_dir" >&2

status=0
remaining=$num
while [ "$remaining" -gt 0 ]; do
  set +e
  wait -n -p done_pid "${pids[@]}"
  rc=$?
  set -e
  remaining=$((remaining - 1))
  if [ "$rc" -ne 0 ] && [ "$status" -eq 0 ]; then
    status=$rc
    echo "cpu_cluster: process with pid $done_pid exited with $rc; stopping the others" >&2
    cleanup
  fi
done
for ((i = 0; i < num; i++)); do
  echo "--- process $i (tail of $log_dir/process_$i.log)" >&2
  tail -n 5 "$log_dir/process_$i.log" >&2 || true
done
exit "$status"
