#!/usr/bin/env bash
# Sets up (idempotent), builds the site and serves it at http://127.0.0.1:${PORT:-8080}/.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build-web.sh
exec node scripts/serve.mjs --root dist --port "${PORT:-8080}"
