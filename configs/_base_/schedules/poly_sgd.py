# SGD with the reference's polynomial decay lr = lr0 * (1 - iter/max)^0.9,
# with the parameter groups the reference intended (head x10) and momentum.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=1e-4, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=10.0)}))
# A leaf config that changes max_epochs changes the scheduler's end too.
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=0,
        end=20,
        by_epoch=True,
        convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_interval=1000)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=1,
                    max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
