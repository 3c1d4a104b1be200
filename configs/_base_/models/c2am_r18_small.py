# C²AM on the small ResNet-18 of r18_small.py (192-channel Z at stride 8).
_base_ = ['./r18_small.py']
model = dict(
    type='C2AM',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone={{_base_.backbone}},
    neck={{_base_.neck}},
    head=dict(
        type='C2AMHead',
        in_channels={{_base_.feat_channels}},
        norm_cfg={{_base_.norm_cfg}}),
    loss=dict(type='C2AMLoss', alpha=0.25),
    test_cfg=dict(threshold=0.5))
