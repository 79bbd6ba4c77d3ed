#!/usr/bin/env bash
# Installs the Debian packages the tests need besides npm's: PyTorch, torchvision
# and onnx for Python, which export the ONNX test models and compute their
# reference gradients, and Chromium (with its SwiftShader WebGL/WebGPU), which
# runs the browser tests, and ONNX's backend test data (libonnx-testdata), which
# packages/backend-onnx's test/onnx-suite.test.ts runs through every rule it
# has. Skips what is already there. Needs root (or sudo).
set -euo pipefail
packages=(python3-torch python3-torchvision python3-onnx chromium libonnx-testdata)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages present: ${packages[*]}"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${missing[*]} ..."
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
echo "installed ${missing[*]}"
