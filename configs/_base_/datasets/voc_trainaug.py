# PASCAL VOC 2012 train_aug images (10,582 with the SBD augmentation):
# ImageSets/Segmentation/train_aug.txt lists ids, read from
# JPEGImages/<id>.jpg. Labels are not read (C2AM trains without them).
_base_ = './image_folder.py'

# The reference's VOC input: resize to 512 x 512, random crop 448, h-flip.
train_pipeline = [
    dict(type='LoadImageBGR8'),
    dict(
        type='Resize',
        scale=(512, 512),
        keep_ratio=False,
        backend='pillow',
        interpolation='bilinear'),
    dict(type='RandomCrop', crop_size=(448, 448)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSegInputs'),
]
# Background cues are inferred on whole images (method.md section 6; the
# multi-scale flips are the inference tool's business).
test_pipeline = [dict(type='LoadImageBGR8'), dict(type='PackSegInputs')]
# Batch 32 as the reference's default (it recommends up to 128).
train_dataloader = dict(
    batch_size=32,
    dataset=dict(
        data_root='data/VOCdevkit/VOC2012',
        ann_file='ImageSets/Segmentation/train_aug.txt',
        data_prefix=dict(img_path='JPEGImages'),
        img_suffix='.jpg',
        pipeline=train_pipeline))
