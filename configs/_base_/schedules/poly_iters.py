# Iteration-based polynomial decay, lr = lr0 * (1 - iter/max_iters)^0.9, for
# the small recipes on the embedded default (procedural scenes): an
# infinite sampler, `train_cfg.max_iters` iterations, one checkpoint (the
# last) kept. The scheduler has no `end`: the Runner ends it at
# train_cfg.max_iters, so a leaf sets the length with
#   train_cfg = dict(max_iters=N)
#   default_hooks = dict(checkpoint=dict(interval=N))
# The optimizer is the base schedule's (leaves choose their own).
_base_ = './poly_sgd.py'
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, by_epoch=False)
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=1000)
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=1000, max_keep_ckpts=1))
