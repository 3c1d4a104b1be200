#!/usr/bin/env bash
# Set up the environment (see tools/setup_env.sh) and run the test suite.
# Usage: bash tools/run_tests.sh [pytest arguments]
set -euo pipefail
# ROOT (the working folder), PY, OMP_NUM_THREADS=2.
source "$(dirname "${BASH_SOURCE[0]}")/script_env.sh"
bash tools/setup_env.sh --tests
exec "$PY" -m pytest tests -q -p no:cacheprovider --durations=10 "$@"
