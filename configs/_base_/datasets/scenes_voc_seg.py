# Procedural scenes exported in the PASCAL VOC segmentation layout, the
# embedded default of the WSSS recipes:
#   python tools/export_scenes.py --out data/scenes_voc --layout voc
# gives JPEGImages/<id>.png, SegmentationClass/<id>.png (0 background,
# 1 + t an object of texture t) and ImageSets/Segmentation/{train,val,
# test}.txt. Leaf configs point the training set's `seg_map_path` at their
# labels (pseudo labels, cues) and replace `LoadAnnotations` when needed;
# validation and test read the true SegmentationClass.
dataset_type = 'BaseSegDataset'
data_root = 'data/scenes_voc'
metainfo = dict(classes=('background', 'stripes', 'checks', 'dots', 'spots'))
train_pipeline = [
    dict(type='LoadImageBGR8'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageBGR8'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
# Small images, read in the main process: on 2 cores, workers would only
# compete with training.
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/train.txt',
        img_suffix='.png',
        seg_map_suffix='.png',
        pipeline=train_pipeline))
# Validation and test: the training loader and dataset on the other splits,
# in order, with the true labels and the test pipeline.
val_dataloader = dict(
    train_dataloader,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        train_dataloader['dataset'],
        ann_file='ImageSets/Segmentation/val.txt',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(
        val_dataloader['dataset'], ann_file='ImageSets/Segmentation/test.txt'))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
