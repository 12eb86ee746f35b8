#!/usr/bin/env bash
# Installs numpy + safetensors from PyPI into target/python-venv (idempotent; seconds when present).
# tests/safetensors.rs finds that interpreter and runs check_export.py with it.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/python-venv
if "$venv/bin/python" -c "import numpy, safetensors" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "numpy>=1.24" "safetensors>=0.4"
"$venv/bin/python" -c "import numpy, safetensors; print('python round trip: numpy', numpy.__version__, 'safetensors', safetensors.__version__)"
