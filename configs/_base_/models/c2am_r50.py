# C²AM with the reference encoder: ResNet-50, stage 4 dilated (output stride
# 16), stages 3 and 4 concatenated (1024 + 2048 = 3072 channels).
# The reference never updates BatchNorm affine parameters (see
# schedules/poly_sgd.py); running statistics still update in training.
norm_cfg = dict(type='BN', requires_grad=False)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size_divisor=1,  # training batches share their crop size: no padding
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='C2AM',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        out_indices=(2, 3),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=False,
        # The user's ImageNet-supervised ResNet-50 (torchvision's
        # resnet50-0676ba61.pth or resnet50-19c8e357.pth, any key prefix);
        # recipes from MoCo v2 / DetCo point `checkpoint` at those files.
        init_cfg=dict(
            type='PretrainedAnyPrefix',
            checkpoint='checkpoints/resnet50_imagenet.pth')),
    neck=dict(type='ConcatStages', in_indices=(0, 1)),
    head=dict(type='C2AMHead', in_channels=3072, norm_cfg=norm_cfg),
    loss=dict(type='C2AMLoss', alpha=0.25),
    test_cfg=dict(threshold=0.5))
