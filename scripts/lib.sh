# Sourced by the other scripts: repository root, the Rust toolchain route, timing helpers.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Phase timing: `phase NAME` starts a phase, `phase_end` closes it, `phase_report` prints them all.
PHASES=()
_phase_name=""
_phase_t0=0
phase() {
  phase_end
  _phase_name="$1"
  _phase_t0=$(date +%s)
  say "$1"
}
phase_end() {
  if [ -n "$_phase_name" ]; then
    PHASES+=("$(printf '%6ss  %s' "$(($(date +%s) - _phase_t0))" "$_phase_name")")
    _phase_name=""
  fi
}
phase_report() {
  phase_end
  say "$1"
  printf '%s\n' "${PHASES[@]}"
}

# The wasm32 route. `rustup`: a rustup toolchain with the prebuilt wasm32-unknown-unknown std (a
# developer machine with internet). `debian`: Debian's rustc 1.96 with its std source, std rebuilt
# for wasm32 by cargo (-Zbuild-std); for machines where rustup cannot download the target.
# CNN_LAB_WASM_ROUTE=rustup|debian forces one. Native builds use the same toolchain, so one rustc
# compiles everything.
wasm_route() {
  if [ -n "${CNN_LAB_WASM_ROUTE:-}" ]; then
    echo "$CNN_LAB_WASM_ROUTE"
  elif command -v rustup >/dev/null 2>&1 &&
    rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    echo rustup
  elif [ -d /usr/lib/rustlib/src/rust/library ] && [ -x /usr/bin/cargo ]; then
    echo debian
  else
    echo none
  fi
}

# Sets CARGO, WASM_STD_FLAGS (extra cargo arguments for wasm32 builds) and WASM_TEST_FLAGS (more
# for wasm32 tests) for the route.
use_toolchain() {
  WASM_ROUTE="$(wasm_route)"
  case "$WASM_ROUTE" in
    rustup)
      CARGO=cargo
      WASM_STD_FLAGS=()
      WASM_TEST_FLAGS=()
      ;;
    debian)
      # rustup's proxies come first on PATH; this route must use Debian's rustc, cargo and rust-lld.
      export PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
      export RUSTC_BOOTSTRAP=1 # -Zbuild-std on a stable compiler
      CARGO=/usr/bin/cargo
      # `test` too, also for the site build: `cargo test` adds it to the std it builds, and when
      # two invocations build std differently, the second one finds two compiler_builtins in
      # target/ and fails with "duplicate lang item in crate core".
      WASM_STD_FLAGS=(-Zbuild-std=std,panic_abort,test)
      # Test harnesses would otherwise be built with panic=unwind (release has panic=abort), so
      # std would be built twice in one run, with the same "duplicate lang item" failure.
      WASM_TEST_FLAGS=(-Zpanic-abort-tests)
      ;;
    *) die "no wasm32 toolchain: run ./scripts/setup.sh" ;;
  esac
  # Installed tools: cargo install puts wasm-bindgen in ~/.cargo/bin, npm puts wasm-opt in
  # node_modules; that wasm-opt must win over Debian's (binaryen 108 writes wrong table exports).
  export PATH="$ROOT/node_modules/.bin:$PATH:${CARGO_HOME:-$HOME/.cargo}/bin"
}

# The wasm-bindgen version pinned in Cargo.toml (`wasm-bindgen = "=X"`).
pinned_wasm_bindgen() {
  sed -n 's/^wasm-bindgen *= *"=\([0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -n1
}

has_feature() { grep -q "^$1 *=" "$ROOT/Cargo.toml"; }

# Jobs: the machines this runs on are small and shared.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
