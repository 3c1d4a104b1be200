# Procedural scenes generated from a seed (mmc2am/datasets/synthetic.py):
# the embedded default, nothing to download. Disjoint splits by seed:
# training 0, validation (threshold choice) 1, test 2. Samples arrive
# already loaded, with `gt_seg_map` (object mask), `gt_bboxes` (xyxy, one
# per object), `gt_bboxes_labels` and `gt_label` (shape family), so there is
# no loading transform. PackSegInputs puts the mask in `gt_sem_seg` and the
# keys listed in `meta_keys` in each SegDataSample's metainfo
# (`data_sample.gt_bboxes`, in the frame of the transformed image).
pack_train_inputs = dict(
    type='PackSegInputs',
    meta_keys=('img_path', 'ori_shape', 'img_shape', 'flip', 'flip_direction',
               'gt_bboxes', 'gt_bboxes_labels', 'gt_label'))
train_pipeline = [
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    pack_train_inputs,
]
test_pipeline = [
    dict(
        type='PackSegInputs',
        meta_keys=('img_path', 'ori_shape', 'img_shape', 'gt_bboxes',
                   'gt_bboxes_labels', 'gt_label')),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='SyntheticScenesDataset',
        num_scenes=2000,
        seed=0,
        img_size=128,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='SyntheticScenesDataset',
        num_scenes=200,
        seed=1,
        img_size=128,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='SyntheticScenesDataset',
        num_scenes=500,
        seed=2,
        img_size=128,
        test_mode=True,
        pipeline=test_pipeline))
