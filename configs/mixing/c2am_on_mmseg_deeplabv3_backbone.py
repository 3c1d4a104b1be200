# Mixing mmc2am into a stock mmseg config: C²AM trained on the backbone of
# mmseg's DeepLabV3 R50-D8 (ResNetV1c, output stride 8), stages 3 and 4.
_base_ = ['mmseg::_base_/models/deeplabv3_r50-d8.py']
custom_imports = dict(imports=['mmc2am'], allow_failed_imports=False)
default_scope = 'mmseg'
stock_backbone = {{_base_.model.backbone}}
model = dict(
    _delete_=True,
    type='C2AM',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=stock_backbone,
    neck=dict(type='ConcatStages', in_indices=(2, 3)),
    head=dict(type='C2AMHead', in_channels=1024 + 2048),
    loss=dict(type='C2AMLoss', alpha=0.25))
custom_hooks = [dict(type='C2AMPolarityHook')]
