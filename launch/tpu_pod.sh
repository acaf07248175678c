#!/usr/bin/env bash
# Runs one commit of this repo on every worker of a TPU VM pod slice.
#
#   launch/tpu_pod.sh --tpu NAME --zone ZONE [--project P] [--commit REV] -- COMMAND [ARGS...]
#   e.g. launch/tpu_pod.sh --tpu my-v4-32 --zone us-central2-b -- \
#          python -m papers.hopfield_layers.train --config=papers/hopfield_layers/configs/default.py:paper \
#          --workdir=gs://bucket/runs/hopfield
#
# Steps: `git archive` the commit (uncommitted changes are refused, so what runs is what is recorded),
# copy it to all workers, run launch/tpu_host_setup.sh there (idempotent: pinned jax[tpu] + requirements
# in ~/repro/<commit>/.venv), then start COMMAND on all workers at once with JAX_AUTO_DISTRIBUTED=1
# (common.distributed calls jax.distributed.initialize(); the TPU runtime supplies the topology).
# Every ssh has a connect timeout and the command a wall-clock TIMEOUT, so a lost worker ends the launch
# instead of hanging it. DRY_RUN=1 prints the gcloud commands instead of running them.
set -euo pipefail

tpu="" zone="" project="" commit="HEAD"
while [ $# -gt 0 ]; do
  case "$1" in
    --tpu) tpu="$2"; shift 2 ;;
    --zone) zone="$2"; shift 2 ;;
    --project) project="$2"; shift 2 ;;
    --commit) commit="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
[ -n "$tpu" ] && [ -n "$zone" ] && [ $# -gt 0 ] || { echo "need --tpu, --zone and -- COMMAND" >&2; exit 2; }

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [ -z "${DRY_RUN:-}" ] && [ "$commit" = "HEAD" ] && ! git diff --quiet HEAD --; then
  echo "uncommitted changes: commit them (or pass --commit REV) so the pod runs a recorded version" >&2
  exit 2
fi
sha="$(git rev-parse --short=12 "$commit")"
archive="/tmp/repro_${sha}.tar.gz"
remote_dir="repro/${sha}"
gflags=(--zone "$zone")
[ -n "$project" ] && gflags+=(--project "$project")
ssh_flags=(--worker=all --ssh-flag=-oConnectTimeout=30 --ssh-flag=-oServerAliveInterval=60)
timeout_s="${TIMEOUT:-86400}"
quoted_cmd="$(printf '%q ' "$@")"

run() {
  if [ -n "${DRY_RUN:-}" ]; then printf 'DRY_RUN:'; printf ' %q' "$@"; printf '\n'; else "$@"; fi
}

run git archive --format=tar.gz -o "$archive" "$commit"
run gcloud compute tpus tpu-vm scp "$archive" "${tpu}:/tmp/" "${gflags[@]}" --worker=all
run gcloud compute tpus tpu-vm ssh "$tpu" "${gflags[@]}" "${ssh_flags[@]}" --command \
  "mkdir -p ~/${remote_dir} && tar -xzf /tmp/$(basename "$archive") -C ~/${remote_dir} && bash ~/${remote_dir}/launch/tpu_host_setup.sh ~/${remote_dir}"
run gcloud compute tpus tpu-vm ssh "$tpu" "${gflags[@]}" "${ssh_flags[@]}" --command \
  "cd ~/${remote_dir} && JAX_AUTO_DISTRIBUTED=1 timeout ${timeout_s} .venv/bin/${quoted_cmd}"
