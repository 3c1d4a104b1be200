# Sourced by the tools/run_*.sh scripts (not run alone): enters the
# repository root (ROOT) and chooses its Python (PY: the virtual environment
# of tools/setup_env.sh, MMC2AM_VENV or <repo>/.venv, or the python3 on the
# PATH with MMC2AM_USE_CURRENT_PYTHON=1) and two CPU threads per process
# (OMP_NUM_THREADS unless set): the scripts are sized for a 2-core machine.
# Usage, after `set -euo pipefail`:
#   source "$(dirname "${BASH_SOURCE[0]}")/script_env.sh"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if [ -n "${MMC2AM_USE_CURRENT_PYTHON:-}" ]; then PY=python3; else PY=${MMC2AM_VENV:-$ROOT/.venv}/bin/python; fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
