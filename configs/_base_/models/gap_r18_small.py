# Image classifier (backbone, global average pooling, 1x1 classifier) on the
# small ResNet-18 of r18_small.py: the demo's initialisation stage.
_base_ = ['./r18_small.py']
model = dict(
    type='GAPClassifier',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone={{_base_.backbone}},
    neck={{_base_.neck}},
    in_channels={{_base_.feat_channels}},
    num_classes=4)
