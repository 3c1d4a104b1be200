# C²AM on the embedded default (procedural scenes), the demo's second stage.
# The backbone starts from the initialisation stage's checkpoint
# (init_textures_scenes.py; tools/demo.py points `init_checkpoint` at its
# own run) and trains at 0.3 x the head's learning rate, with the paper's
# loss and no labels. Measured on the scenes (README, demo section): a
# frozen backbone localises less well, and one trained at the head's rate
# co-adapts with it to a partition that is not the objects. Each training
# scene is enlarged by a random factor in [1, 1.5] and cropped back to its
# size (the reference's resize + random crop) and flipped.
# Train alone with (after the initialisation stage):
#   python tools/train.py configs/demo/c2am_scenes.py
_base_ = [
    '../_base_/models/c2am_r18_small.py',
    '../_base_/datasets/synthetic_scenes.py',
    '../_base_/schedules/poly_iters.py', '../_base_/default_runtime.py'
]
img_size = 96
max_iters = 300
# Where tools/train.py leaves the initialisation stage's last checkpoint.
init_checkpoint = 'work_dirs/init_textures_scenes/iter_1000.pth'
model = dict(
    backbone=dict(
        init_cfg=dict(type='PretrainedAnyPrefix',
                      checkpoint=init_checkpoint)),
    loss=dict(alpha=0.25))
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        num_scenes=1000,
        img_size=img_size,
        cache=True,
        pipeline=[
            dict(
                type='RandomResize',
                scale=(img_size, img_size),
                ratio_range=(1.0, 1.5),
                keep_ratio=True),
            dict(type='RandomCrop', crop_size=(img_size, img_size)),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            # The crop leaves boxes behind: C²AM trains without them.
            dict(
                type='PackSegInputs',
                meta_keys=('img_path', 'ori_shape', 'img_shape', 'flip',
                           'flip_direction')),
        ]))
# Validation scenes choose the box threshold (tools/demo.py); the test
# scenes are scored with it.
val_dataloader = None
test_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(img_size=img_size))
test_evaluator = dict(type='WSOLMetric')
test_cfg = dict(type='TestLoop')
# SGD with momentum (not the reference's effective 1e-4 of the base
# schedule): head lr 0.01, backbone 0.003, polynomial decay over
# max_iters (configs/_base_/schedules/poly_iters.py).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(
        custom_keys=dict(
            head=dict(lr_mult=1.0), backbone=dict(lr_mult=0.3))))
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=25), checkpoint=dict(interval=max_iters))
randomness = dict(seed=0)
