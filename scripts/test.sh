#!/usr/bin/env bash
# Sets up (idempotent) and runs every test layer, then prints one summary:
#   native     cargo test --release (the CPU reference), and with --features webgpu the WGSL kernels
#              on lavapipe (skipped when Cargo.toml has no `webgpu` feature)
#   browser    wasm-bindgen-test in headless Chromium, in a dedicated worker: once with SwiftShader's
#              WebGPU adapter, once without WebGPU
#   e2e        the built site, served and driven by playwright-core (tests/e2e/), with screenshots
# Logs and screenshots go to artifacts/. A GPU test without an adapter prints "SKIPPED: ..."; those
# are counted, and in the WebGPU runs any skip is a failure (the adapter must be there).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
T0=$(date +%s)

./scripts/setup.sh
use_toolchain
LOGS=artifacts/logs
mkdir -p "$LOGS"

FAILURES=()
SUMMARY=()
fail() { FAILURES+=("$1"); printf '\033[31mFAILED: %s\033[0m\n' "$1"; }

# run LOG CMD...: runs CMD with its output shown and kept in $LOGS/LOG.log; false when CMD fails.
run() {
  local log="$LOGS/$1.log"
  shift
  "$@" 2>&1 | tee "$log"
  return "${PIPESTATUS[0]}"
}
# Counts in a log: libtest's "test result:" lines summed, and "SKIPPED:" lines.
count() { { grep -o "[0-9]* $2;" "$LOGS/$1.log" || true; } | awk '{s += $1} END {print s + 0}'; }
skips() { grep -c 'SKIPPED:' "$LOGS/$1.log" || true; }
# Only the GPU tests' own skips (no adapter) count against a run that must have a GPU.
gpu_skips() { grep -cE 'SKIPPED: no (GPU|WebGPU) adapter' "$LOGS/$1.log" || true; }
record() { SUMMARY+=("$(printf '%-30s %4s passed %4s failed %4s skipped' "$1" "$(count "$1" passed)" "$(count "$1" failed)" "$(skips "$1")")"); }

if $CARGO fmt --version >/dev/null 2>&1; then
  phase "format (cargo fmt --check)"
  $CARGO fmt --check || fail "cargo fmt --check (run cargo fmt)"
fi

phase "native: cargo test --release (with the Python/numpy round trip of model files)"
tests/python/setup.sh || fail "tests/python/setup.sh (numpy + safetensors from PyPI)"
run native env CNN_LAB_REQUIRE_PYTHON=1 $CARGO test --release -- --show-output || fail "native tests"
record native

if has_feature webgpu; then
  phase "native: cargo test --release --features webgpu (wgpu on lavapipe)"
  run native-webgpu $CARGO test --release --features webgpu -- --show-output || fail "native webgpu tests"
  record native-webgpu
  [ "$(gpu_skips native-webgpu)" = 0 ] || fail "native GPU tests skipped: lavapipe gave no adapter"
fi

# The runner reads the browser's flags from the capabilities file; test binaries that do not pick
# their own place run in a dedicated worker, where the lab's engine runs.
browser_tests() {
  WASM_BINDGEN_TEST_WEBDRIVER_JSON="tests/web/webdriver-$1.json" \
    WASM_BINDGEN_USE_DEDICATED_WORKER=1 WASM_BINDGEN_TEST_TIMEOUT=600 \
    $CARGO test --release --tests --target wasm32-unknown-unknown --features webgpu "${WASM_STD_FLAGS[@]}" "${WASM_TEST_FLAGS[@]}" \
    -- --nocapture
}

phase "browser: wasm-bindgen-test with WebGPU (SwiftShader)"
run browser-webgpu browser_tests webgpu || fail "browser tests with WebGPU"
record browser-webgpu
grep -q 'PROBE: WebGPU adapter:' "$LOGS/browser-webgpu.log" || fail "no WebGPU adapter with the SwiftShader flags"
[ "$(gpu_skips browser-webgpu)" = 0 ] || fail "GPU tests skipped although WebGPU was enabled"

phase "browser: wasm-bindgen-test without WebGPU"
run browser-no-webgpu browser_tests no-webgpu || fail "browser tests without WebGPU"
record browser-no-webgpu
grep -q 'PROBE: no WebGPU adapter:' "$LOGS/browser-no-webgpu.log" || fail "the probe found WebGPU where there is none"

phase "build the site (scripts/build-web.sh)"
if run build-web ./scripts/build-web.sh; then
  for suite in e2e e2e-lab e2e-embed; do
    phase "$suite: playwright-core (tests/$suite/)"
    run "$suite" node --test --test-concurrency=1 --test-reporter=spec "tests/$suite/" || fail "$suite tests"
    SUMMARY+=("$(printf '%-30s %4s passed %4s failed %4s skipped %4s todo' "$suite" \
      "$(sed -n 's/^ℹ pass \([0-9]*\)/\1/p' "$LOGS/$suite.log")" \
      "$(sed -n 's/^ℹ fail \([0-9]*\)/\1/p' "$LOGS/$suite.log")" \
      "$(sed -n 's/^ℹ skipped \([0-9]*\)/\1/p' "$LOGS/$suite.log")" \
      "$(sed -n 's/^ℹ todo \([0-9]*\)/\1/p' "$LOGS/$suite.log")")")
  done
else
  fail "site build"
fi

phase_report "phase times"
say "results (logs and screenshots in artifacts/)"
printf '%s\n' "${SUMMARY[@]}"
grep -h '^pkg/cnn-lab_bg.wasm' "$LOGS/build-web.log" 2>/dev/null || true
echo "total: $(($(date +%s) - T0))s"
if [ "${#FAILURES[@]}" -gt 0 ]; then
  printf '\033[31mFAILED: %s\033[0m\n' "${FAILURES[@]}"
  exit 1
fi
say "all tests passed"
