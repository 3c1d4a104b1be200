# The reference's *effective* optimizer: its parameter groups never match, so
# every parameter trains at lr x1, its SGD momentum is 1e-4 (effectively
# none), and BatchNorm affine parameters are never updated (set
# norm_cfg=dict(type='BN', requires_grad=False) in the model, as the
# *_faithful leaf configs do).
_base_ = ['./poly_sgd.py']
optim_wrapper = dict(
    optimizer=dict(momentum=1e-4),
    paramwise_cfg=dict(_delete_=True))
