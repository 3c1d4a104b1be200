# Initialisation stage of the demo: the small ResNet-18 learns which
# textures (stripes, checks, dots, spots) are present in a scene, a
# multi-label image-level target (the analogue of ImageNet labels: what is
# in the image, never where). Only objects carry these textures, so the
# features it learns respond to objects, and C²AM starts from an encoder
# that means something (issue 3 item 4; measurements in the README's demo
# section). 1000 steps over 1000 scenes (32 passes): the loss leaves its
# plateau after about 700 steps. Mild colour and contrast jitter (as
# ImageNet training uses) keeps the texture features from relying on
# colour and contrast, so dark, low-contrast objects light up more (the
# README's demo section has the validation figures with and without it).
# Train alone with: python tools/train.py configs/demo/init_textures_scenes.py
_base_ = [
    '../_base_/models/gap_r18_small.py',
    '../_base_/datasets/synthetic_scenes.py',
    '../_base_/schedules/poly_iters.py', '../_base_/default_runtime.py'
]
img_size = 96
max_iters = 1000
model = dict(num_classes=4, multi_label=True)
# Scenes are generated once and kept in memory (1000 x 27 KB), read in the
# main process: on 2 cores, workers would only compete with training.
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        num_scenes=1000,
        img_size=img_size,
        label_type='textures',
        cache=True,
        pipeline=[
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(
                type='PhotoMetricDistortion',
                brightness_delta=16,
                contrast_range=(0.75, 1.25),
                saturation_range=(0.75, 1.25),
                hue_delta=9),
            {{_base_.pack_train_inputs}},
        ]))
# A classifier of image-level labels has no localisation metric to run.
val_dataloader = None
test_dataloader = None
# From scratch, AdamW; SGD (lr 0.05, momentum 0.9) stayed at chance over
# 300 steps on these scenes.
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4))
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=max_iters))
randomness = dict(seed=0)
