#!/usr/bin/env bash
# The canonical build of the site into dist/ (run ./scripts/setup.sh once first):
#   cargo (release, LTO, simd128 from .cargo/config.toml, feature webgpu)
#   -> wasm-bindgen --target web -> wasm-opt -O3 -> dist/{index.html, www/, pkg/, assets/}
# and prints the size of the .wasm and of the JS, raw and gzipped.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
use_toolchain

wasm=target/wasm32-unknown-unknown/release/cnn_lab.wasm
bindgen_out=target/wasm-bindgen
out="${CNN_LAB_DIST:-dist}"

phase "cargo build (wasm32, release, route $WASM_ROUTE)"
$CARGO build --release --lib --target wasm32-unknown-unknown --features webgpu "${WASM_STD_FLAGS[@]}"

phase "wasm-bindgen"
rm -rf "$bindgen_out"
# Named like trunk names a worker build (Trunk.toml), so www/worker.js loads either.
wasm-bindgen --target web --no-typescript --out-name cnn-lab --out-dir "$bindgen_out" "$wasm"

# Only npm's binaryen (scripts/setup.sh installs it): an older system wasm-opt, e.g. Debian's 108,
# rewrites wasm-bindgen's table export and the page then fails in WebAssembly.Table.set.
wasm_opt="$ROOT/node_modules/.bin/wasm-opt"
[ -x "$wasm_opt" ] || { echo "build-web: $wasm_opt is missing: run ./scripts/setup.sh first" >&2; exit 1; }
phase "wasm-opt -O3 ($("$wasm_opt" --version))"
rm -rf "$out"
mkdir -p "$out/pkg"
# The features every browser with wasm SIMD also has; rustc emits several of them already.
"$wasm_opt" -O3 --strip-debug --strip-producers \
  --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$bindgen_out/cnn-lab_bg.wasm" -o "$out/pkg/cnn-lab_bg.wasm"
cp "$bindgen_out/cnn-lab.js" "$out/pkg/"

phase "assemble $out/"
cp index.html "$out/"
cp -r www "$out/www"
rm -rf "$out/www/pkg"
if [ -d assets ]; then cp -r assets "$out/assets"; fi
# Offline: the service worker at the root controls the whole site; the marked page registers it and
# precache.json lists what the worker caches at install (the engine and data before any exercise
# needs them).
cp www/sw.js "$out/sw.js"
sed -i 's|<html lang="en">|<html lang="en" data-offline="sw">|' "$out/index.html"
grep -q 'data-offline="sw"' "$out/index.html"
(cd "$out" && find . -type f \( -name '*.html' -o -name '*.js' -o -name '*.css' -o -name '*.wasm' -o -name '*.bin' \) \
  ! -path './sw.js' | sed 's|^\./||' | sort) |
  node -e 'const l = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean); process.stdout.write(JSON.stringify(["./", ...l], null, 1) + "\n")' \
    >"$out/precache.json"

phase_end
size() { printf '%-28s %9d bytes raw %9d bytes gzip\n' "$1" "$(wc -c <"$2")" "$(gzip -9 -c "$2" | wc -c)"; }
say "sizes"
size "pkg/cnn-lab_bg.wasm" "$out/pkg/cnn-lab_bg.wasm"
size "pkg/cnn-lab.js (glue)" "$out/pkg/cnn-lab.js"
for f in "$out"/www/*.js; do size "www/$(basename "$f")" "$f"; done
phase_report "built $out/"
