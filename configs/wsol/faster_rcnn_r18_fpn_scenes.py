# The class-agnostic Faster R-CNN on the embedded default: trained on
# C²AM's pseudo boxes of the 1,000 training scenes (see psol_r18_scenes.py
# for the files), tested on the 500 test scenes with its top box. The
# demo's small ResNet-18 (from its initialisation stage) with a 64-channel
# FPN, at the scenes' 96 px.
_base_ = './faster_rcnn_r50_fpn_cub_pseudo.py'
data_root = 'data/scenes/'
img_size = 96
max_iters = 600
channels = 64
model = dict(
    backbone=dict(
        depth=18,
        stem_channels=16,
        base_channels=16,
        init_cfg=dict(
            type='PretrainedAnyPrefix',
            checkpoint='work_dirs/demo/init/iter_1000.pth')),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=channels),
    rpn_head=dict(in_channels=channels, feat_channels=channels),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=channels),
        bbox_head=dict(in_channels=channels, fc_out_channels=256)),
    # Scenes hold 1-3 objects: fewer proposals and sampled RoIs than COCO's
    # (the RoI head is most of the CPU time).
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=300),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=100)))
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
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    batch_sampler=None,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        data_root=data_root,
        ann_file='pseudo_boxes.json',
        data_prefix=dict(img='images/train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=0),
        pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=16,
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
optim_wrapper = dict(optimizer=dict(lr=0.02))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=50,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
