# The PSOL-style regressor on the embedded default: trained on C²AM's
# pseudo boxes of the 1,000 training scenes (tools/export_scenes.py, then
# tools/extract_boxes.py with configs/wsol/c2am_scenes_wsol.py, write
# data/scenes/), tested on the ground-truth boxes of the 500 test scenes.
# The small ResNet-18 of the demo starts from the demo's initialisation
# stage (tools/demo.py leaves it in work_dirs/demo/init/), so the CPU
# figures mean something (about 2 minutes on 2 cores).
_base_ = './psol_r50_cub_pseudo.py'
data_root = 'data/scenes/'
img_size = 96
max_iters = 600
model = dict(
    backbone=dict(
        depth=18,
        stem_channels=16,
        base_channels=16,
        init_cfg=dict(
            type='PretrainedAnyPrefix',
            checkpoint='work_dirs/demo/init/iter_1000.pth')),
    in_channels=128)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_path', 'ori_shape', 'img_shape', 'scale_factor',
                   'gt_label')),
]
train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        data_root=data_root,
        ann_file='pseudo_boxes.json',
        data_prefix=dict(img='images/train/'),
        pipeline=train_pipeline))
test_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='CocoBoxDataset',
        data_root=data_root,
        ann_file='annotations/test.json',
        data_prefix=dict(img_path='images'),
        test_mode=True,
        pipeline=test_pipeline))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
