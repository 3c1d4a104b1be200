# ILSVRC 2012 ground truth for WSOL testing (ILSVRCBoxDataset): the 50,000
# validation images (val/) with the boxes of ILSVRC2012_bbox_val_v3.tgz
# unpacked into val_boxes/. The box threshold is chosen on a held-out split
# (WSOLTestLoop): the first 10 training images of each class that have a box
# file (ILSVRC2012_bbox_train_v2.tar.gz unpacked into train_boxes/), 10,000
# images. Classes are the sorted train/ sub-folders (or `class_file`).
_base_ = './wsol_test_pipeline.py'
test_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='ILSVRCBoxDataset',
        data_root='data/imagenet',
        data_prefix=dict(img_path='val'),
        box_prefix='val_boxes',
        pipeline={{_base_.wsol_test_pipeline}}))
test_evaluator = dict(type='WSOLMetric')
test_cfg = dict(
    type='WSOLTestLoop',
    held_out_dataloader=dict(
        batch_size=32,
        num_workers=8,
        drop_last=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(
            type='ILSVRCBoxDataset',
            data_root='data/imagenet',
            data_prefix=dict(img_path='train'),
            box_prefix='train_boxes',
            missing_boxes='skip',
            per_class=10,
            pipeline={{_base_.wsol_test_pipeline}})))
