#!/usr/bin/env bash
# The GPU benchmark from the folder pack-offline.mjs made (a machine that
# cannot reach a package registry): its own Node and its .deb files.
#
#   bash PACKED/repo/apps/bench/gpu/run-offline.sh [run-bench options]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PACKED="$(cd "$HERE/../../../.." && pwd)"
export PATH="$PACKED/bin:$PATH"
[[ -d "$PACKED/debs" ]] && export OFFLINE_DEBS="$PACKED/debs"
exec bash "$HERE/run-gpu-bench.sh" "$@"
