#!/usr/bin/env bash
# The project's one test command (README, .ci/run): makes the dev venv if needed, installs the engine
# with CPU torch and the test tools, then runs every test, the real-GIMP end-to-end tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${COLORCORE_DEV_VENV:-.venv}
# The engine venv is bind-mounted into GIMP's root by the e2e tests, so it must come from a
# self-contained Python (pyenv, python.org build), not the system /usr/bin/python3.
PY=${PYTHON:-$(python3 -c 'import sys; print(sys.executable)')}
if [ ! -x "$VENV/bin/python" ]; then
  echo "[test.sh] creating $VENV with $PY"
  "$PY" -m venv "$VENV"
fi
pip_q() { "$VENV/bin/pip" install --quiet --disable-pip-version-check "$@" 2>&1 | grep -v ' is ignored' || true; }
# torch first, the CPU build as install.py installs it (one pin, one rule): a bare 'torch' requirement
# would pull PyPI's multi-GB CUDA build
"$VENV/bin/python" -c 'import torch' 2>/dev/null || "$VENV/bin/python" -c 'import install, sys; install.install_torch(sys.executable)'
pip_q -e ".[test,bench]"
"$VENV/bin/python" -c 'import colorcore, torch, cv2, scipy, pluggy' 
# paths and options given to this script replace the default (every test): bash scripts/test.sh tests/test_cli.py
if [ $# -eq 0 ]; then set -- tests; fi
exec "$VENV/bin/python" -m pytest -q -ra "$@"
