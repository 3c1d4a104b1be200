# C²AM on CUB-200-2011 training images from an ImageNet-supervised ResNet-50
# (method.md section 4): batch 16, lr 1e-4, 20 epochs, alpha 0.05.
_base_ = [
    '../_base_/models/c2am_r50.py', '../_base_/datasets/cub_train.py',
    '../_base_/schedules/poly_sgd.py', '../_base_/default_runtime.py'
]
model = dict(loss=dict(alpha=0.05))
