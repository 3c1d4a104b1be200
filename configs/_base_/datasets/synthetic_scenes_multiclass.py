# The multi-class WSSS variant of the procedural scenes, generated in memory
# (splits and seeds of synthetic_scenes.py): each object's class is its
# texture, `gt_seg_map` holds 0 background, 1 stripes, 2 checks, 3 dots,
# 4 spots, and `gt_label` lists the textures present (0-based foreground
# classes: the image-level labels a CAM classifier trains on).
# The same scenes as files, for training on pseudo labels:
#   python tools/export_scenes.py --out data/scenes_voc --layout voc
# (read by scenes_voc_seg.py; image-level labels in ImageLabels/*.txt).
_base_ = './synthetic_scenes.py'

img_size = 96  # the demo's side, and export_scenes.py's default
scenes = dict(img_size=img_size, seg_labels='textures', label_type='textures')
train_dataloader = dict(dataset=scenes)
val_dataloader = dict(dataset=scenes)
test_dataloader = dict(dataset=scenes)
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
