# Ground truth of any custom data in COCO format (CocoBoxDataset), for WSOL
# testing: images under `data_root`/images/, boxes of the test split in
# annotations/test.json, and of a held-out split, on which the box
# threshold is chosen (WSOLTestLoop), in annotations/val.json. Categories
# can be anything (the maps are class-agnostic; the image class, for Top-k
# Loc, is the category of its largest box). Masks for PxAP:
# `mask_prefix='masks'` reads masks/<file_name stem>.png.
_base_ = './wsol_test_pipeline.py'
test_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CocoBoxDataset',
        data_root='data/custom',
        ann_file='annotations/test.json',
        data_prefix=dict(img_path='images'),
        pipeline={{_base_.wsol_test_pipeline}}))
test_evaluator = dict(type='WSOLMetric')
test_cfg = dict(
    type='WSOLTestLoop',
    held_out_dataloader=dict(
        batch_size=16,
        num_workers=4,
        drop_last=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(
            type='CocoBoxDataset',
            data_root='data/custom',
            ann_file='annotations/val.json',
            data_prefix=dict(img_path='images'),
            pipeline={{_base_.wsol_test_pipeline}})))
