# C²AM on ILSVRC 2012 training images: batch 256 over 8 GPUs (32 each, the
# loss gathers all 256), lr 1e-4, 5 epochs, alpha 0.05 (method.md section 4).
_base_ = [
    '../_base_/models/c2am_r50.py', '../_base_/datasets/ilsvrc_train.py',
    '../_base_/schedules/poly_sgd.py', '../_base_/default_runtime.py'
]
model = dict(loss=dict(alpha=0.05))
train_cfg = dict(max_epochs=5)
