#!/usr/bin/env bash
# Set up the environment (see tools/setup_env.sh), then run the embedded-
# default demo (tools/demo.py): initialisation stage, C²AM training and
# evaluation on procedural scenes, about 10 minutes on 2 cores.
# Usage: bash tools/run_demo.sh [tools/demo.py arguments, e.g. --force]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash tools/setup_env.sh
if [ -n "${MMC2AM_USE_CURRENT_PYTHON:-}" ]; then PY=python3; else PY=${MMC2AM_VENV:-$ROOT/.venv}/bin/python; fi
# Two CPU threads: the demo is sized for a 2-core machine.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
exec "$PY" tools/demo.py "$@"
