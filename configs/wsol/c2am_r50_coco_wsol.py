# C²AM for WSOL on custom data: trained on the unlabelled images of
# data/custom/images/train/ (the image-folder recipe), tested on the boxes of
# annotations/test.json at the threshold chosen on annotations/val.json
# (COCO format; see _base_/datasets/coco_boxes.py).
_base_ = [
    '../c2am/c2am_r50_image_folder.py', '../_base_/datasets/coco_boxes.py'
]
train_dataloader = dict(
    dataset=dict(
        data_root='data/custom', data_prefix=dict(img_path='images/train')))
model = dict(test_cfg=dict(output_frame='img_shape'))
default_hooks = dict(visualization=dict(type='WSOLVisualizationHook'))
