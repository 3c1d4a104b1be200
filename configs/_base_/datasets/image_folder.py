# Any folder of images (method.md section 7): no labels, scanned
# recursively for every format OpenCV reads, in sorted order. Point
# `train_dataloader.dataset.data_root` at the folder; to use a list file
# instead, set `ann_file` (one path per line, relative to the folder).
# Bad files stop the run with their name; to skip them instead, set the
# dataset's `skip_missing=True` (listed files that do not exist, dropped and
# named when the dataset is built) and `LoadImageBGR8`'s
# `skip_unreadable=True` (files that cannot be decoded, named when met; in
# training another image is drawn).
#
# Training input of the reference's CUB / ILSVRC recipes (method.md section
# 4; its train scripts use torchvision `Resize((256, 256))`,
# `RandomHorizontalFlip()`, `RandomCrop((224, 224))`): both sides resized to
# 256 (aspect not kept), with Pillow's antialiased bilinear filter as
# torchvision applies to PIL images, then a random 224 crop and a
# horizontal flip.
train_pipeline = [
    dict(type='LoadImageBGR8'),
    dict(
        type='Resize',
        scale=(256, 256),
        keep_ratio=False,
        backend='pillow',
        interpolation='bilinear'),
    dict(type='RandomCrop', crop_size=(224, 224)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSegInputs'),
]
# Extraction / evaluation input of the WSOL recipes (method.md sections 4
# and 5): resize to 480 x 480, centre crop 448. Tools that map the training
# images to boxes build the training dataset with this pipeline.
test_pipeline = [
    dict(type='LoadImageBGR8'),
    dict(
        type='Resize',
        scale=(480, 480),
        keep_ratio=False,
        backend='pillow',
        interpolation='bilinear'),
    dict(type='CenterCrop', crop_size=448),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='ImageFolderDataset',
        data_root='data/images',
        data_prefix=dict(img_path=''),
        pipeline=train_pipeline))
