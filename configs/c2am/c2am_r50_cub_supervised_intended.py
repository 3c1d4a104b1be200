# The CUB recipe with the optimizer the reference meant instead of the one it
# ran (see _base_/schedules/poly_sgd.py): momentum 0.9, biases x2, the head
# x10, BatchNorm affine parameters trained.
_base_ = ['./c2am_r50_cub_supervised.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(backbone=dict(norm_cfg=norm_cfg), head=dict(norm_cfg=norm_cfg))
optim_wrapper = dict(
    optimizer=dict(momentum=0.9),
    paramwise_cfg=dict(
        bias_lr_mult=2.0, custom_keys={'head': dict(lr_mult=10.0)}))
