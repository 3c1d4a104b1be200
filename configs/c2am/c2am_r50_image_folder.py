# C²AM on any folder of images (no labels): set
# train_dataloader.dataset.data_root. The VOC recipe's optimizer settings.
_base_ = [
    '../_base_/models/c2am_r50.py', '../_base_/datasets/image_folder.py',
    '../_base_/schedules/poly_sgd.py', '../_base_/default_runtime.py'
]
model = dict(loss=dict(alpha=0.25))
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_epochs=10)
