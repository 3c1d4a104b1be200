# Mixing mmc2am into a stock mmdet config (default_scope='mmdet'): C²AM on
# mmdet's ResNet-50, stages 3 and 4 (stride 16 and 32, resized to stride 16
# by the neck), with mmdet's stock runtime around it. mmc2am's C²AM parts live
# in mmseg's registries: `_scope_='mmseg'` builds the whole model in mmseg's
# scope (so its parts keep bare names and mmdet's backbone is written
# 'mmdet.ResNet'); a single component is written 'mmseg.Name'.
_base_ = ['mmdet::_base_/default_runtime.py']
custom_imports = dict(imports=['mmc2am'], allow_failed_imports=False)
default_scope = 'mmdet'
model = dict(
    _scope_='mmseg',
    type='C2AM',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='mmdet.ResNet',
        depth=50,
        out_indices=(2, 3),
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        # e.g. dict(type='PretrainedAnyPrefix', checkpoint='r50_moco.pth')
        init_cfg=None),
    neck=dict(type='ConcatStages', in_indices=(0, 1)),
    head=dict(type='C2AMHead', in_channels=1024 + 2048),
    loss=dict(type='C2AMLoss', alpha=0.25))
custom_hooks = [dict(type='mmseg.C2AMPolarityHook')]
