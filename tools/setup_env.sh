#!/usr/bin/env bash
# Set up a Python environment for mmc2am: torch, the OpenMMLab stack and mmc2am.
#
# Usage: bash tools/setup_env.sh [--tests]
#
#   --tests   also install the test requirements (pytest).
#
# Environment variables (all optional):
#   MMC2AM_VENV        virtual environment to create or reuse (default: <repo>/.venv).
#   MMC2AM_USE_CURRENT_PYTHON=1
#                      install into the current python3 instead of a virtual environment
#                      (for users who already have torch / mmcv they want to keep).
#   MMC2AM_WHEEL_DIR   where the compiled mmcv wheel is kept and reused
#                      (default: ~/.cache/mmc2am/wheels).
#   MMC2AM_TORCH       torch requirement installed when torch is missing
#                      (default: torch==2.13.0, the CPU build on our machines).
#   FORCE_CUDA, MAX_JOBS  passed to the mmcv build (defaults: 0 and the core count).
#
# mmcv 2.1.0 with compiled ops is the slow part: the package index only has its source,
# so the first run compiles ~77 C++ units (about 25 minutes on 2 cores). The wheel is
# kept in MMC2AM_WHEEL_DIR and every later run installs it in seconds. An environment
# that already imports a working mmcv>=2.1,<2.2 with ops keeps it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WITH_TESTS=0
for arg in "$@"; do
  case "$arg" in
    --tests) WITH_TESTS=1 ;;
    *) echo "setup_env.sh: unknown argument '$arg' (known: --tests)" >&2; exit 2 ;;
  esac
done

MMCV_VERSION=2.1.0
WHEEL_DIR=${MMC2AM_WHEEL_DIR:-$HOME/.cache/mmc2am/wheels}
TORCH_REQ=${MMC2AM_TORCH:-torch==2.13.0}

log() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

if [ -n "${MMC2AM_USE_CURRENT_PYTHON:-}" ]; then
  PY=$(command -v python3)
  log "installing into the current interpreter $PY"
else
  VENV=${MMC2AM_VENV:-$ROOT/.venv}
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtual environment $VENV"
    python3 -m venv "$VENV"
  fi
  PY=$VENV/bin/python
fi
PIP=("$PY" -m pip --disable-pip-version-check)
# pip warns about every package missing from local find-links folders of some
# machines ("Location ... is ignored"); keep the log readable.
quiet_pip() { "${PIP[@]}" "$@" 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }; return "${PIPESTATUS[0]}"; }

has() { "$PY" - "$@" <<'EOF' >/dev/null 2>&1
import sys
code = {
    'torch': 'import torch',
    'mmcv': ('import mmcv, mmcv.ops\n'
             'from mmengine.utils import digit_version as v\n'
             'assert v("2.1.0") <= v(mmcv.__version__) < v("2.2.0")\n'
             'mmcv.ops.nms'),
}[sys.argv[1]]
exec(code)
EOF
}

# 1. torch: keep the user's, else the pinned CPU build.
if has torch; then
  log "torch present: $("$PY" -c 'import torch; print(torch.__version__)')"
else
  log "installing $TORCH_REQ"
  quiet_pip install -q "$TORCH_REQ"
fi
# setuptools<81: mmcv's setup imports pkg_resources. ninja: parallel C++ compile.
quiet_pip install -q 'setuptools<81' wheel ninja 'mmengine==0.10.7'

# 2. mmcv with compiled ops: keep a working one, else install the cached wheel, else build it.
if has mmcv; then
  log "mmcv with ops present: $("$PY" -c 'import mmcv; print(mmcv.__version__)')"
else
  mkdir -p "$WHEEL_DIR"
  torch_tag=$("$PY" -c 'import torch, sys; print(torch.__version__.replace("+", "_"), f"py{sys.version_info[0]}{sys.version_info[1]}", sep="-")')
  cached_dir=$WHEEL_DIR/$torch_tag
  if ! ls "$cached_dir"/mmcv-$MMCV_VERSION-*.whl >/dev/null 2>&1; then
    log "compiling mmcv $MMCV_VERSION with ops against torch $torch_tag."
    log "This happens once per torch version and takes about 25 minutes on 2 cores;"
    log "the wheel is kept in $cached_dir and reused by every later run."
    build_log=$(mktemp -t mmcv-build.XXXXXX.log)
    tmp_dir=$(mktemp -d "$WHEEL_DIR/.build.XXXXXX")
    export MMCV_WITH_OPS=1 FORCE_CUDA=${FORCE_CUDA:-0} MAX_JOBS=${MAX_JOBS:-$(nproc)}
    # ninja prints "[k/N] c++ ..." for each compiled unit: show those as progress.
    set +e
    "${PIP[@]}" wheel -v --no-deps --no-build-isolation -w "$tmp_dir" "mmcv==$MMCV_VERSION" 2>&1 \
      | tee "$build_log" | grep --line-buffered -oE '^\s*\[[0-9]+/[0-9]+\]' \
      | while read -r step; do log "mmcv compile $step"; done
    status=${PIPESTATUS[0]}
    set -e
    if [ "$status" -ne 0 ]; then
      tail -n 40 "$build_log" >&2
      log "mmcv build failed (full log: $build_log)" >&2
      rm -rf "$tmp_dir"
      exit 1
    fi
    mkdir -p "$cached_dir"
    mv "$tmp_dir"/mmcv-*.whl "$cached_dir"/
    rm -rf "$tmp_dir"
  fi
  log "installing mmcv from $cached_dir"
  quiet_pip install -q --no-deps "$cached_dir"/mmcv-$MMCV_VERSION-*.whl
fi

# 3. The rest of the stack and mmc2am itself (editable, so configs and tools see the repo).
log "installing mmsegmentation, mmdet and mmc2am"
quiet_pip install -q 'mmsegmentation==1.2.2' 'mmdet==3.3.0' ftfy regex
quiet_pip install -q --no-build-isolation --no-deps -e "$ROOT"
# mmcv's own runtime requirements (it was installed with --no-deps).
quiet_pip install -q 'addict' 'packaging' 'Pillow' 'pyyaml' 'yapf' 'opencv-python>=3'
# Optional dense-CRF backend (pydensecrf's C++ lattice, source-only on the
# registry; pip caches the built wheel). Without it the CRF uses mmc2am's NumPy
# lattice, which gives the same results (tests/test_crf.py), a little slower.
if ! "$PY" -c 'import pydensecrf.densecrf' >/dev/null 2>&1; then
  log "building pydensecrf2 (about a minute the first time)"
  quiet_pip install -q Cython
  quiet_pip install -q --no-build-isolation 'pydensecrf2==1.1' \
    || log "pydensecrf2 did not build: the dense CRF uses its NumPy backend"
fi
if [ "$WITH_TESTS" -eq 1 ]; then
  quiet_pip install -q pytest
fi
"$PY" -c 'import mmseg.models, mmdet.models, mmc2am; print("mmc2am", mmc2am.__version__, "ready")'
log "done: use $PY"
