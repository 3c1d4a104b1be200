# Cue refinement on VOC (method.md section 6.4): the stock DeepLabV3+ R50-D8
# as a binary (background, object) model trained on the background cues of
# the train_aug images (VOC2012/cues/<id>.png, foreground 255, read as 0/1
# by LoadCueAnnotation). The backbone is a plain ResNet-50 (torchvision
# keys, as C²AM's) initialised from `init_checkpoint`: the trained C²AM,
# an ImageNet, MoCo v2 or DetCo ResNet-50 (any key prefix). Then
#   python tools/predict_cues.py configs/wsss/cue_refine_r50_voc.py \
#       work_dirs/cue_refine_r50_voc/iter_20000.pth \
#       --img-dir $VOC/JPEGImages --img-suffix .jpg \
#       --list $VOC/ImageSets/Segmentation/train_aug.txt \
#       --out-dir $VOC/cues_refined
# writes the refined cues for tools/refine_cam_labels.py.
_base_ = 'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512.py'  # noqa: E501
custom_imports = dict(imports=['mmc2am'], allow_failed_imports=False)
data_root = 'data/VOCdevkit/VOC2012'
init_checkpoint = 'checkpoints/resnet50.pth'
model = dict(
    pretrained=None,
    backbone=dict(
        type='ResNet',
        init_cfg=dict(type='PretrainedAnyPrefix', checkpoint=init_checkpoint)),
    decode_head=dict(num_classes=2),
    auxiliary_head=dict(num_classes=2))
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCueAnnotation'),
    dict(
        type='RandomResize',
        scale=(2048, 512),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='Pad', size=crop_size),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='BaseSegDataset',
        metainfo=dict(classes=('background', 'object')),
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages', seg_map_path='cues'),
        ann_file='ImageSets/Segmentation/train_aug.txt',
        img_suffix='.jpg',
        seg_map_suffix='.png',
        pipeline=train_pipeline))
# Cues have no ground truth: score what they give with
# tools/eval_pseudo_labels.py.
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None
