# A PSOL-style single-box regressor (BoxRegressor: ResNet-50, global average
# pooling, fc -> 4) trained on C²AM's pseudo boxes of the CUB training
# images, tested on the CUB test split's boxes (LocalizerMetric).
#   python tools/train.py configs/wsol/psol_r50_cub_pseudo.py
#   python tools/test.py configs/wsol/psol_r50_cub_pseudo.py \
#       work_dirs/psol_r50_cub_pseudo/epoch_30.pth
# PSOL's input: resize 256, random crop 224, flip; test at 224 x 224. The
# backbone starts from the user's ImageNet-supervised ResNet-50.
_base_ = 'mmdet::_base_/default_runtime.py'
custom_imports = dict(imports=['mmc2am'], allow_failed_imports=False)
data_root = 'data/CUB_200_2011/'
metainfo = dict(classes=('object', ))
model = dict(
    type='BoxRegressor',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=1),
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(3, ),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=dict(
            type='PretrainedAnyPrefix',
            checkpoint='checkpoints/resnet50_imagenet.pth')),
    in_channels=2048,
    dropout=0.0)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='RandomCrop', crop_size=(224, 224), allow_negative_crop=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_path', 'ori_shape', 'img_shape', 'scale_factor',
                   'gt_label')),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='CocoDataset',
        data_root=data_root,
        ann_file='c2am_pseudo_boxes.json',
        data_prefix=dict(img='images/'),
        metainfo=metainfo,
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CUBBoxDataset',
        data_root=data_root,
        split='test',
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = dict(type='LocalizerMetric')
test_cfg = dict(type='TestLoop')
# SGD, the fc layer at 10x (PSOL's fine-tuning), 30 epochs, step at 20.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys=dict(fc=dict(lr_mult=10))))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[20], gamma=0.1)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=30, val_interval=30)
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=2))
