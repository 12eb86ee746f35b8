#!/usr/bin/env bash
# The benchmark: builds the site (scripts/build-web.sh), opens www/bench.html in headless Chromium
# and prints one JSON object per line per case on stdout (build output goes to stderr).
#   ./scripts/bench.sh [--quick] [--breakdown] [--models cnn,ae,vae,resnet,convae] [--batch 64]
#                      [--webgpu] [--gpu-steps N] [--memory [--memory-data bundled,idx-60k]] [--first-epoch]
#   --no-build reuses dist/ as it is.
# See docs/benchmarks.md for what each field means.
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
build=1
for a in "$@"; do
  if [ "$a" = --no-build ]; then build=0; else args+=("$a"); fi
done
if [ "$build" = 1 ]; then
  ./scripts/setup.sh >&2
  ./scripts/build-web.sh >&2
fi
exec node scripts/bench.mjs "${args[@]}"
