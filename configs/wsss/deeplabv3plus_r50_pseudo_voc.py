# Segmentation trained on pseudo labels (method.md section 6.6): mmseg's
# stock DeepLabV3+ R50-D8 (VOC 2012 aug, 512 x 512, 20k iterations) whose
# training set reads our pseudo labels instead of the ground truth:
# VOC2012/pseudo_labels/<id>.png for the train_aug ids, written by
#   VOC=data/VOCdevkit/VOC2012
#   python tools/refine_cam_labels.py --cams CAMS --cues CUES \
#       --out $VOC/pseudo_labels \
#       --list $VOC/ImageSets/Segmentation/train_aug.txt
# Validation is the stock one (VOC val, true SegmentationClass).
#
# Any other stock mmseg model: change the `_base_` line to its VOC 2012
# config (e.g. 'mmseg::pspnet/pspnet_r50-d8_4xb4-20k_voc12aug-512x512.py');
# the training set below is model-agnostic. For a config of another data
# set, also set the heads' num_classes=21.
# The backbone starts from mmseg's `open-mmlab://resnet50_v1c` (ImageNet;
# downloaded on first use): point `model.pretrained` at a local file
# offline.
_base_ = 'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512.py'  # noqa: E501
custom_imports = dict(imports=['mmc2am'], allow_failed_imports=False)
data_root = 'data/VOCdevkit/VOC2012'
pseudo_label_dir = 'pseudo_labels'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PascalVOCDataset',
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages', seg_map_path=pseudo_label_dir),
        ann_file='ImageSets/Segmentation/train_aug.txt',
        pipeline={{_base_.train_pipeline}}))
