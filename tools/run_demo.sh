#!/usr/bin/env bash
# Set up the environment (see tools/setup_env.sh), then run the embedded-
# default demo (tools/demo.py): initialisation stage, C²AM training and
# evaluation on procedural scenes, about 10 minutes on 2 cores.
# Usage: bash tools/run_demo.sh [tools/demo.py arguments, e.g. --force]
set -euo pipefail
# ROOT (the working folder), PY, OMP_NUM_THREADS=2.
source "$(dirname "${BASH_SOURCE[0]}")/script_env.sh"
bash tools/setup_env.sh
exec "$PY" tools/demo.py "$@"
