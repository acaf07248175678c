#!/usr/bin/env bash
# Idempotent host set-up on one TPU VM worker: a venv in REPO_DIR/.venv with the pinned requirements
# and jax[tpu] at the same jax version. A second run with the same requirements does nothing.
#   bash launch/tpu_host_setup.sh REPO_DIR
set -euo pipefail
repo="${1:?usage: tpu_host_setup.sh REPO_DIR}"
cd "$repo"
jax_version="$(sed -n 's/^jax==\(.*\)$/\1/p' requirements.txt)"
[ -n "$jax_version" ] || { echo "requirements.txt pins no jax version" >&2; exit 1; }
stamp=".venv/.tpu_installed_$(sha256sum requirements.txt | cut -c1-16)"
if [ -f "$stamp" ]; then
  echo "tpu_host_setup: $repo/.venv is up to date"
  exit 0
fi
python3 -m venv .venv
.venv/bin/pip install --quiet -r requirements.txt
.venv/bin/pip install --quiet "jax[tpu]==${jax_version}" \
  -f https://storage.googleapis.com/jax-releases/libtpu_releases.html
touch "$stamp"
echo "tpu_host_setup: installed jax[tpu]==${jax_version} and requirements in $repo/.venv"
