# The reference's *effective* optimizer (the default: it reproduces the
# reported numbers). SGD with polynomial decay lr = lr0 * (1 - iter/max)^0.9.
# The reference meant parameter groups (x1 backbone, x2 bias, x10 head weight,
# x20 head bias) but its membership test never matches, so every parameter
# trains at lr x1 and BatchNorm affine parameters are never updated (the
# model bases set norm_cfg=dict(type='BN', requires_grad=False)); its SGD
# momentum is 1e-4, effectively none. What it meant:
# configs/c2am/c2am_r50_cub_supervised_intended.py.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=1e-4, momentum=1e-4, weight_decay=1e-4))
# No `end`: the Runner ends the decay at train_cfg.max_epochs, so a leaf
# config changes the number of epochs in one place.
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=0,
        by_epoch=True,
        convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_interval=1000)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
