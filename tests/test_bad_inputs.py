"""Bad input to the command-line tools: each case ends with a clear message
naming the file or key, or is handled (converted, skipped and listed).

Dataset-level cases (every loader and layout) are in test_datasets.py; this
module drives tools/train.py and tools/test.py end to end on an image folder.
"""
import os
import os.path as osp

import fabricate
import pytest
from conftest import tiny_c2am_cfg
from mmengine.config import Config

import test as test_tool
import train as train_tool


def _folder_cfg(work_dir, data_root, **dataset):
    """The image-folder recipe with the tiny model, 2 iterations."""
    cfg = Config.fromfile('configs/c2am/c2am_r50_image_folder.py')
    cfg.model = tiny_c2am_cfg()
    cfg.work_dir = str(work_dir)
    cfg.train_dataloader.update(
        batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.update(data_root=str(data_root), **dataset)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', by_epoch=False, interval=2)
    cfg.default_hooks.visualization = dict(type='SegVisualizationHook')
    cfg.default_hooks.logger.interval = 1
    cfg.custom_hooks[0].decide_after_iters = 1
    path = osp.join(str(work_dir), 'cfg.py')
    os.makedirs(str(work_dir), exist_ok=True)
    cfg.dump(path)
    return path


def _images(root, *writers):
    fabricate.image_folder(str(root))
    for name, writer in writers:
        writer(osp.join(str(root), name))


def test_missing_root_names_it(tmp_path):
    path = _folder_cfg(tmp_path / 'w', tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match='nowhere'):
        train_tool.main([path])


def test_empty_folder_names_it(tmp_path):
    (tmp_path / 'empty').mkdir()
    path = _folder_cfg(tmp_path / 'w', tmp_path / 'empty')
    with pytest.raises(ValueError, match='empty'):
        train_tool.main([path])


def test_odd_formats_and_small_images_train(tmp_path):
    # RGBA, 16-bit and grey PNGs are converted to 8-bit BGR; the images
    # (40 x 30) are smaller than the 224 crop: the recipe resizes first.
    _images(tmp_path / 'img', ('rgba.png', fabricate.rgba_png),
            ('deep.png', fabricate.png16), ('grey.png', fabricate.grey_png))
    model = train_tool.main([_folder_cfg(tmp_path / 'w', tmp_path / 'img')])
    assert bool(model.polarity_decided)


def test_truncated_jpeg_stops_with_its_name_or_is_skipped(tmp_path):
    root = tmp_path / 'img'
    (root).mkdir()
    for i in range(4):
        fabricate.truncated_jpeg(str(root / f'bad{i}.jpg'))
    fabricate.write_image(str(root / 'good.png'))
    with pytest.raises(OSError, match=r'bad\d\.jpg'):
        train_tool.main([_folder_cfg(tmp_path / 'w', root)])


def test_truncated_jpeg_skipped_when_asked(tmp_path, capsys):
    root = tmp_path / 'img'
    _images(root, ('zz_bad.jpg', fabricate.truncated_jpeg))
    path = _folder_cfg(tmp_path / 'w', root)
    cfg = Config.fromfile(path)
    cfg.train_dataloader.dataset.pipeline[0].skip_unreadable = True
    cfg.dump(path)
    train_tool.main([path])  # trains on the readable images


def test_list_file_naming_a_missing_image(tmp_path):
    root = tmp_path / 'img'
    names = fabricate.image_folder(str(root))
    fabricate.write_text(str(root / 'list.txt'), names + ['gone.jpg'])
    path = _folder_cfg(tmp_path / 'w', root, ann_file='list.txt')
    with pytest.raises(FileNotFoundError, match='gone.jpg'):
        train_tool.main([path])


def test_wrong_config_key_is_named(tmp_path):
    _images(tmp_path / 'img')
    path = _folder_cfg(tmp_path / 'w', tmp_path / 'img')
    with pytest.raises(TypeError, match='in_chanels'):
        train_tool.main([path, '--cfg-options', 'model.head.in_chanels=96'])


def test_wrong_config_path_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='no_such_config.py'):
        train_tool.main([str(tmp_path / 'no_such_config.py')])
    with pytest.raises(FileNotFoundError, match='no_such_config.py'):
        test_tool.main([str(tmp_path / 'no_such_config.py'), 'x.pth'])
