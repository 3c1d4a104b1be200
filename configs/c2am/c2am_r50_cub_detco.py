# C²AM on CUB-200-2011 from a self-supervised DetCo ResNet-50 (alpha 0.75).
_base_ = ['./c2am_r50_cub_moco.py']
model = dict(
    backbone=dict(
        init_cfg=dict(checkpoint='checkpoints/detco_200ep.pth')))
