# C²AM for WSOL on CUB-200-2011: the supervised-init recipe
# (configs/c2am/c2am_r50_cub_supervised.py; train with this file or that
# one), tested on the CUB test split with its boxes at the box threshold
# chosen on the training images' boxes (WSOLTestLoop), maps in the 448
# centre crop where the boxes are:
#   python tools/test.py configs/wsol/c2am_r50_cub_wsol.py CHECKPOINT
# reports wsol/GT-known, wsol/Top-1 Loc (with class predictions:
# test_evaluator.predictions=FILE), wsol/MaxBoxAcc, wsol/MaxBoxAccV2 and,
# with masks (test_dataloader.dataset.mask_prefix=segmentations), wsol/PxAP.
# The reference's own practice (threshold tuned on the test split) is
# test_evaluator.choose_on_test=True, reported as @test-tuned.
# Pseudo boxes of the training images for the localizers:
#   python tools/extract_boxes.py configs/wsol/c2am_r50_cub_wsol.py \
#       CHECKPOINT --threshold TAU \
#       --out data/CUB_200_2011/c2am_pseudo_boxes.json
_base_ = [
    '../c2am/c2am_r50_cub_supervised.py', '../_base_/datasets/cub_boxes.py'
]
model = dict(test_cfg=dict(output_frame='img_shape'))
default_hooks = dict(visualization=dict(type='WSOLVisualizationHook'))
