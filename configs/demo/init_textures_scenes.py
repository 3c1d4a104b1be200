# Initialisation stage of the demo: the small ResNet-18 learns to tell which
# textures (stripes, checks, dots, spots) are present in a scene, a
# multi-label image-level target (the analogue of ImageNet labels: what is
# in the image, never where). Texture detectors fire on objects, whose
# patterns the backgrounds lack, so C²AM starts from features that respond
# to objects (see issue 3 item 4 and the README's demo section).
# Train alone with: python tools/train.py configs/demo/init_textures_scenes.py
_base_ = [
    '../_base_/models/gap_r18_small.py',
    '../_base_/datasets/synthetic_scenes.py',
    '../_base_/schedules/poly_sgd.py', '../_base_/default_runtime.py'
]
img_size = 96
max_iters = 600
model = dict(num_classes=4, multi_label=True)
# Scenes are generated once and kept in memory (1000 x 27 KB), read in the
# main process: on 2 cores, workers would only compete with training.
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        num_scenes=1000, img_size=img_size, label_type='textures',
        cache=True))
# A classifier of image-level labels has no localisation metric to run.
val_dataloader = None
test_dataloader = None
# From scratch, AdamW converges in a few hundred steps where SGD stalls at
# chance (measured: see the README's demo section).
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1))
# The runtime's polarity hook is for C²AM models (it reads their polarity
# buffer); a classifier has none.
custom_hooks = []
randomness = dict(seed=0)
