# A class-agnostic Faster R-CNN R50-FPN trained on C²AM's pseudo boxes of
# the CUB training images (method.md section 5.5), tested on the CUB test
# split's boxes with its top box (LocalizerMetric: GT-known, and Top-1 /
# Top-5 Loc with a classifier's predictions, test_evaluator.predictions).
#   python tools/extract_boxes.py configs/wsol/c2am_r50_cub_wsol.py \
#       C2AM_CHECKPOINT --threshold TAU \
#       --out data/CUB_200_2011/c2am_pseudo_boxes.json
#   python tools/train.py configs/wsol/faster_rcnn_r50_fpn_cub_pseudo.py
#   python tools/test.py configs/wsol/faster_rcnn_r50_fpn_cub_pseudo.py \
#       work_dirs/faster_rcnn_r50_fpn_cub_pseudo/epoch_12.pth
# mmdet's stock model and schedule; the backbone starts from the user's
# ImageNet-supervised ResNet-50 (any key prefix; the WSOL setting allows no
# box-supervised initialisation such as a COCO detector).
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['mmc2am'], allow_failed_imports=False)
data_root = 'data/CUB_200_2011/'
metainfo = dict(classes=('object', ))
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='PretrainedAnyPrefix',
            checkpoint='checkpoints/resnet50_imagenet.pth')),
    roi_head=dict(bbox_head=dict(num_classes=1)),
    # Keep every detection: the metric scores the top one, and an image
    # must not be left without a box.
    test_cfg=dict(rcnn=dict(score_thr=0.0)))
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='c2am_pseudo_boxes.json',  # file names under images/
        data_prefix=dict(img='images/'),
        metainfo=metainfo))
# The test split's ground truth (CUBBoxDataset, which also gives mmdet's
# `instances` and the image class `gt_label`).
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_path', 'ori_shape', 'img_shape', 'scale_factor',
                   'gt_label')),
]
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CUBBoxDataset',
        data_root=data_root,
        split='test',
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = dict(_delete_=True, type='LocalizerMetric')
# No validation during training (there is no box-labelled val split).
val_dataloader = None
val_evaluator = None
val_cfg = None
