# C²AM for WSOL on ILSVRC 2012: the ILSVRC recipe
# (configs/c2am/c2am_r50_ilsvrc.py), tested on the 50,000 validation images
# with their boxes at the box threshold chosen on 10 boxed training images
# per class (WSOLTestLoop; see _base_/datasets/ilsvrc_boxes.py).
_base_ = ['../c2am/c2am_r50_ilsvrc.py', '../_base_/datasets/ilsvrc_boxes.py']
model = dict(test_cfg=dict(output_frame='img_shape'))
default_hooks = dict(visualization=dict(type='WSOLVisualizationHook'))
