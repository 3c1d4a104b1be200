# CUB-200-2011 ground truth for WSOL testing (CUBBoxDataset: boxes,
# classes, and the masks of the separate "segmentations" download when
# `mask_prefix='segmentations'` is set, for PxAP).
# The box threshold is chosen on a held-out split and applied to the test
# split (WSOLTestLoop). CUB has no third split: the held-out images are the
# training images with their boxes (boxes C2AM never sees; it trains
# without labels). Point both data roots at your copy, e.g.
#   --cfg-options test_dataloader.dataset.data_root=$CUB \
#       test_cfg.held_out_dataloader.dataset.data_root=$CUB
_base_ = './wsol_test_pipeline.py'
test_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CUBBoxDataset',
        data_root='data/CUB_200_2011',
        split='test',
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
            type='CUBBoxDataset',
            data_root='data/CUB_200_2011',
            split='train',
            pipeline={{_base_.wsol_test_pipeline}})))
