#!/usr/bin/env bash
# Set up the environment (see tools/setup_env.sh) and run the test suite.
# Usage: bash tools/run_tests.sh [pytest arguments]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash tools/setup_env.sh --tests
if [ -n "${MMC2AM_USE_CURRENT_PYTHON:-}" ]; then PY=python3; else PY=${MMC2AM_VENV:-$ROOT/.venv}/bin/python; fi
# Two CPU threads per process: the suite is sized for a 2-core machine.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
exec "$PY" -m pytest tests -q -p no:cacheprovider --durations=10 "$@"
