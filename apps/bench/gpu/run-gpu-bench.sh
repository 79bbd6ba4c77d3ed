#!/usr/bin/env bash
# VarGrad on an NVIDIA GPU, in one run: our backends through WebGPU in Node
# (Dawn, the `webgpu` npm package) — TF.js webgpu, ONNX Runtime's WebGPU EP
# (native, native with graph capture, and JSEP) — beside PyTorch CUDA on the
# same card.
#
# For a Linux machine with an NVIDIA driver, Node ≥ 20.19 and this
# repository with `npm ci` done and the packages built
# (`npx turbo run build --filter=./packages/*`), or the folder that
# pack-offline.mjs makes for a machine without a registry (run-offline.sh).
# Run from anywhere:
#
#   bash apps/bench/gpu/run-gpu-bench.sh            # sets up Vulkan/glvnd (apt, needs root) and runs
#   SKIP_APT=1 bash apps/bench/gpu/run-gpu-bench.sh # the libraries are already there
#
# Writes apps/bench/results/gpu.json and gpu.md: ResNet-18 224² first, N = 16
# and 64, our engines with core's noise made on the GPU (the "noise" column),
# the share of each call outside its samples call, and the issue-16 targets
# table (BENCHMARKS.md, "The next GPU run"). Extra arguments go to
# src/run-bench.mjs (e.g. --models=resnet18).
#
# Without a GPU, to know the script works (SwiftShader; never for timings):
#   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium SKIP_APT=1 \
#     bash apps/bench/gpu/run-gpu-bench.sh --models=mlp --engines=tfjs-webgpu --samples=4,8 --no-single --budget-ms=1 \
#     --out=results/gpu-swiftshader-check.json   # not results/gpu.json: these are not GPU timings
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
APP="$(dirname "$HERE")"
ROOT="$(cd "$APP/../.." && pwd)"

# 1. Dawn needs the Vulkan loader and glvnd (without glvnd the loader fails
#    with VK_ERROR_INCOMPATIBLE_DRIVER), and the driver's Vulkan ICD file.
#    OFFLINE_DEBS: a folder of their .deb files (pack-offline.mjs), unpacked
#    with dpkg -x where the loader is missing, for a machine without a registry.
if [[ -n "${OFFLINE_DEBS:-}" ]]; then
  if ! ldconfig -p | grep -q 'libvulkan\.so\.1 ' || ! ldconfig -p | grep -q 'libGLX\.so\.0 '; then
    for deb in "$OFFLINE_DEBS"/*.deb; do dpkg -x "$deb" /; done
    ldconfig
  fi
elif [[ "${SKIP_APT:-0}" != 1 ]]; then
  if command -v apt-get >/dev/null; then
    SUDO=""; [[ $(id -u) == 0 ]] || SUDO=sudo
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null
    $SUDO ldconfig
  else
    echo "no apt-get: install the Vulkan loader (libvulkan1) and glvnd (libglvnd0, libegl1, libgl1, libglx0, libgles2, libopengl0) yourself" >&2
  fi
fi
if [[ -z "${VK_DRIVER_FILES:-}" && -z "${VK_ICD_FILENAMES:-}" ]]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    if [[ -f "$icd" ]]; then export VK_DRIVER_FILES="$icd"; break; fi
  done
fi
if [[ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]]; then
  echo "no NVIDIA Vulkan ICD file found (nvidia_icd.json): set VK_DRIVER_FILES to it" >&2
  exit 1
fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/xdg-runtime-$(id -u)}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
echo "Vulkan ICD: ${VK_DRIVER_FILES:-$VK_ICD_FILENAMES}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

# 2. The benchmark's ONNX models, exported by this machine's PyTorch where
#    missing (the networks of the test fixtures, without their references).
#    BENCH_PYTHON: a python3 with a CUDA build of torch and torchvision;
#    without CUDA the PyTorch rows are left out and the run says so.
export BENCH_PYTHON="${BENCH_PYTHON:-python3}"
"$BENCH_PYTHON" "$APP/src/torch/export_models.py" "$ROOT/packages/backend-onnx/test/fixtures/models" mlp cnn1d resnet18 ||
  echo "could not export every model with $BENCH_PYTHON: the cases of a missing model will fail and the others run" >&2

# 3. Is Dawn there and does it see the card?
(cd "$APP" && node --input-type=module -e "
import { installWebGpu } from './src/engines/webgpu-node.mjs';
console.log('WebGPU adapter:', await installWebGpu());
process.exit(0);")

# 4. PyTorch CUDA on the same card, then ours through WebGPU, one run.
cd "$APP" && node src/run-bench.mjs --profile=gpu --torch-device=cuda --no-memory --case-timeout-s=180 --out=results/gpu.json "$@"
