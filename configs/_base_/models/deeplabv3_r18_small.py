# DeepLabV3 (mmseg's EncoderDecoder with ASPPHead) on the small ResNet-18 of
# r18_small.py, for CPU runs on the embedded default. The backbone has the
# keys of the demo's classifier and C²AM, so their checkpoints initialise it
# (init_cfg PretrainedAnyPrefix). The head reads stage 4 (128 channels,
# output stride 8). Leaf configs set num_classes.
_base_ = ['./r18_small.py']
model = dict(
    type='EncoderDecoder',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone={{_base_.backbone}},
    decode_head=dict(
        type='ASPPHead',
        in_channels=128,
        in_index=1,
        channels=64,
        dilations=(1, 6, 12, 18),
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg={{_base_.norm_cfg}},
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
