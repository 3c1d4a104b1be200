# Cue refinement (method.md section 6.4), the embedded default: a binary
# (background, object) DeepLabV3 on the small ResNet-18, initialised from
# the demo's texture classifier, trained on the background cues
# data/scenes_voc/cues/<id>.png (foreground 255; LoadCueAnnotation reads
# them as 0/1). Its predictions, written by
#   python tools/predict_cues.py configs/wsss/cue_refine_r18_scenes.py \
#       work_dirs/cue_refine_r18_scenes/iter_300.pth \
#       --img-dir data/scenes_voc/JPEGImages --out-dir CUES_REFINED
# replace the cues in tools/refine_cam_labels.py.
# Train with: python tools/train.py configs/wsss/cue_refine_r18_scenes.py
_base_ = './deeplabv3_r18_pseudo_scenes.py'
max_iters = 300
model = dict(decode_head=dict(num_classes=2))
train_pipeline = [
    dict(type='LoadImageBGR8'),
    dict(type='LoadCueAnnotation'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    dataset=dict(
        metainfo=dict(classes=('background', 'object')),
        data_prefix=dict(seg_map_path='cues'),
        pipeline=train_pipeline))
# The cues have no ground truth to validate against: score the predicted
# cues (or the pseudo labels they give) with tools/eval_pseudo_labels.py.
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None
# AdamW: the binary model learns in 50 iterations with it (README).
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4))
# The decay of the base schedule ends at max_iters (poly_iters.py).
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
