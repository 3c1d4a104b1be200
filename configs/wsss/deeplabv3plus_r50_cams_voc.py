# As deeplabv3plus_r50_pseudo_voc.py, with the pseudo labels built while
# loading (no label files): LoadRefinedCAMLabel replaces LoadAnnotations
# and refines each image's class CAMs (CAMS/<id>.npy, IRN layout) by its
# background cue (CUES/<id>.png, foreground 255), exactly as
# tools/refine_cam_labels.py does. Without `cue_dir` (and with
# `bg_threshold=...`) it is the constant-threshold baseline.
# The same two changes turn any stock mmseg config into one trained
# straight from CAMs and cues: `custom_imports` and the loading transform.
_base_ = './deeplabv3plus_r50_pseudo_voc.py'
cam_dir = 'work_dirs/voc_cams'
cue_dir = 'work_dirs/voc_cues'
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadRefinedCAMLabel', cam_dir=cam_dir, cue_dir=cue_dir),
    dict(
        type='RandomResize',
        scale=(2048, 512),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='Pad', size=crop_size),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    dataset=dict(data_prefix=dict(seg_map_path=''), pipeline=train_pipeline))
