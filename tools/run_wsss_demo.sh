#!/usr/bin/env bash
# WSSS on the multi-class embedded default (method.md section 6), with the
# demo's checkpoints: scenes exported in the VOC layout (class = texture),
# C²AM maps and background cues (threshold 0.3 + dense CRF, the reference's
# settings), class CAMs of the demo's texture classifier, pseudo labels
# refined by the cues and the constant-threshold baseline on the same CAMs
# (its best threshold from a sweep on the same images), both scored against
# the true masks. Set up first (tools/setup_env.sh); trains the demo
# (tools/demo.py, ~10 min) only if its checkpoints are missing. About 2
# minutes on 2 cores after that; every step resumes when re-run.
# Usage: bash tools/run_wsss_demo.sh
# Environment: DATA (data/scenes_voc), WORK (work_dirs/wsss_demo), NUM
# (400 training scenes, seed 0), NUM_VAL (100 validation scenes, seed 1;
# exported for the segmentation configs, configs/wsss/).
set -euo pipefail
# ROOT (the working folder), PY, OMP_NUM_THREADS=2.
source "$(dirname "${BASH_SOURCE[0]}")/script_env.sh"
bash tools/setup_env.sh
DATA=${DATA:-data/scenes_voc}
WORK=${WORK:-work_dirs/wsss_demo}
NUM=${NUM:-400}
NUM_VAL=${NUM_VAL:-100}
INIT=work_dirs/demo/init/iter_1000.pth
C2AM=work_dirs/demo/c2am/iter_300.pth
LIST=$DATA/ImageSets/Segmentation/train.txt
CLASSES=background,stripes,checks,dots,spots

if [ ! -f "$INIT" ] || [ ! -f "$C2AM" ]; then
  echo "== $INIT or $C2AM missing: training the demo (tools/demo.py) first"
  "$PY" tools/demo.py
fi

echo "== 1. Scenes in the VOC layout: $DATA"
"$PY" tools/export_scenes.py --out "$DATA" --layout voc \
  --splits "train:0:$NUM" "val:1:$NUM_VAL"

echo "== 2. C²AM maps ($WORK/maps) and background cues ($DATA/cues)"
"$PY" tools/infer_maps.py configs/demo/c2am_scenes.py "$C2AM" \
  --img-dir "$DATA/JPEGImages" --list "$LIST" \
  --out "$WORK/maps" --cue-dir "$DATA/cues"

echo "== 3. Class CAMs of the present classes ($WORK/cams)"
"$PY" tools/infer_cams.py configs/demo/init_textures_scenes.py "$INIT" \
  --img-dir "$DATA/JPEGImages" --labels "$DATA/ImageLabels/train.txt" \
  --out-dir "$WORK/cams"

echo "== 4. Constant-threshold baseline: sweep on the same CAMs"
"$PY" tools/eval_pseudo_labels.py --sweep "$WORK/cams" \
  --gt "$DATA/SegmentationClass" --num-classes 5 --class-names "$CLASSES" \
  --list "$LIST" | tee "$WORK/sweep.txt"
BEST=$(sed -n 's/^best baseline: threshold \([0-9.]*\),.*/\1/p' \
  "$WORK/sweep.txt")
if [ -z "$BEST" ]; then
  echo "the sweep chose no threshold (see $WORK/sweep.txt)" >&2
  exit 1
fi

echo "== 5. Pseudo labels: cue-refined ($DATA/pseudo_labels) and the"
echo "     baseline at $BEST ($WORK/labels_baseline_$BEST)"
"$PY" tools/refine_cam_labels.py --cams "$WORK/cams" --cues "$DATA/cues" \
  --out "$DATA/pseudo_labels" --list "$LIST" --strict
"$PY" tools/refine_cam_labels.py --cams "$WORK/cams" \
  --baseline-threshold "$BEST" --out "$WORK/labels_baseline_$BEST" \
  --list "$LIST" --strict

echo "== 6. Both against the true masks"
for LABELS in "$DATA/pseudo_labels" "$WORK/labels_baseline_$BEST"; do
  "$PY" tools/eval_pseudo_labels.py --pred "$LABELS" \
    --gt "$DATA/SegmentationClass" --num-classes 5 --class-names "$CLASSES" \
    --list "$LIST" | tee "$WORK/eval_$(basename "$LABELS").txt"
done

miou() { sed -n 's/^mIoU \([0-9.]*\)%.*/\1/p' "$WORK/eval_$1.txt"; }
CUES=$(miou pseudo_labels)
BASE=$(miou "labels_baseline_$BEST")
echo
echo "Pseudo labels of the $NUM training scenes, same CAMs, same images:"
printf '| %-50s | %6s |\n' 'labels' 'mIoU %'
echo '|----------------------------------------------------|--------|'
printf '| %-50s | %6s |\n' 'cue-refined (1 - cue as background)' "$CUES"
printf '| %-50s | %6s |\n' \
  "best constant-threshold baseline (threshold $BEST)" "$BASE"
