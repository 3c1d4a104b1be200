# A small encoder for CPU runs (the demo): ResNet-18 with 16 base channels
# (stages of 16, 32, 64, 128 channels) at output stride 8 (stages 3 and 4
# dilated 2 and 4), stages 3 and 4 concatenated (64 + 128 = 192 channels).
# Shared by the initialisation classifier and C²AM, so one's backbone
# checkpoint loads into the other.
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size_divisor=1,
    pad_val=0,
    seg_pad_val=255)
backbone = dict(
    type='ResNet',
    depth=18,
    stem_channels=16,
    base_channels=16,
    num_stages=4,
    strides=(1, 2, 1, 1),
    dilations=(1, 1, 2, 4),
    out_indices=(2, 3),
    contract_dilation=True,
    norm_cfg=norm_cfg,
    norm_eval=False,
    style='pytorch')
neck = dict(type='ConcatStages', in_indices=(0, 1))
feat_channels = 192
