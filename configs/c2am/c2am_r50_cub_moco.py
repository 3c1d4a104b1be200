# C²AM on CUB-200-2011 from a self-supervised MoCo v2 ResNet-50: no labels
# anywhere. Same recipe, alpha 0.75 (method.md section 4).
_base_ = ['./c2am_r50_cub_supervised.py']
model = dict(
    backbone=dict(
        init_cfg=dict(
            # The official MoCo v2 file (keys 'module.encoder_q.*').
            checkpoint='checkpoints/moco_v2_800ep_pretrain.pth.tar')),
    loss=dict(alpha=0.75))
