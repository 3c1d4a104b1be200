# C²AM for WSOL on the embedded default (procedural scenes, no download):
# the demo's C²AM (configs/demo/c2am_scenes.py; tools/demo.py trains it into
# work_dirs/demo/c2am/), tested on the 500 test scenes (seed 2) at the box
# threshold chosen on the 200 validation scenes (seed 1):
#   python tools/test.py configs/wsol/c2am_scenes_wsol.py \
#       work_dirs/demo/c2am/iter_300.pth
# Pseudo boxes of the training scenes, once they are files
# (tools/export_scenes.py writes data/scenes/):
#   python tools/extract_boxes.py configs/wsol/c2am_scenes_wsol.py \
#       work_dirs/demo/c2am/iter_300.pth --threshold TAU \
#       --out data/scenes/pseudo_boxes.json
_base_ = '../demo/c2am_scenes.py'
model = dict(test_cfg=dict(output_frame='img_shape'))
test_evaluator = dict(type='WSOLMetric')
test_cfg = dict(
    _delete_=True,
    type='WSOLTestLoop',
    held_out_dataloader=dict(
        batch_size=16,
        num_workers=0,
        drop_last=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(
            type='SyntheticScenesDataset',
            num_scenes=200,
            seed=1,
            img_size={{_base_.img_size}},
            test_mode=True,
            pipeline={{_base_.test_pipeline}})))
default_hooks = dict(visualization=dict(type='WSOLVisualizationHook'))
# The training scenes as files (tools/export_scenes.py), the same images
# C²AM trained on, mapped at their own size.
extract_pipeline = [dict(type='LoadImageBGR8'), dict(type='PackSegInputs')]
extract_dataset = dict(
    type='ImageFolderDataset',
    data_root='data/scenes',
    data_prefix=dict(img_path='images/train'))
