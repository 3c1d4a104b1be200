"""tools/export_scenes.py --layout voc: the files mmseg's BaseSegDataset
reads, image-level labels, resuming; the label file format."""
import os
import os.path as osp

import export_scenes
import numpy as np
import pytest
from mmengine.config import Config
from mmseg.registry import DATASETS

from mmc2am.datasets import (SyntheticScenesDataset, read_image_labels,
                             write_image_labels)
from mmc2am.datasets.transforms.loading import read_image_bgr8
from mmc2am.functional.pseudo_labels import load_label_map

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DATASETS_DIR = osp.join(ROOT, 'configs', '_base_', 'datasets')
CLASSES = ('background', 'stripes', 'checks', 'dots', 'spots')


@pytest.fixture(scope='module')
def voc(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('scenes') / 'voc')
    assert export_scenes.main([
        '--out', out, '--layout', 'voc', '--size', '48', '--splits',
        'train:0:6', 'val:1:2'
    ]) == 0
    return out


def test_voc_layout_holds_the_scenes_and_their_classes(voc):
    dataset = SyntheticScenesDataset(
        num_scenes=6,
        seed=0,
        img_size=48,
        seg_labels='textures',
        label_type='textures')
    with open(osp.join(voc, 'ImageSets', 'Segmentation', 'train.txt')) as f:
        assert f.read().split() == [f'train_{i:05d}' for i in range(6)]
    labels = read_image_labels(osp.join(voc, 'ImageLabels', 'train.txt'))
    assert list(labels) == [f'train_{i:05d}' for i in range(6)]
    for index in range(6):
        info = dataset.get_data_info(index)
        name = f'train_{index:05d}'
        img = read_image_bgr8(osp.join(voc, 'JPEGImages', name + '.png'))
        np.testing.assert_array_equal(img, info['img'])
        seg = load_label_map(osp.join(voc, 'SegmentationClass', name + '.png'))
        np.testing.assert_array_equal(seg, info['gt_seg_map'])
        # Image labels: 0-based foreground classes, class id minus 1.
        assert labels[name] == sorted(
            int(c) - 1 for c in np.unique(seg) if c > 0)
        assert labels[name] == info['gt_label']
    assert len(os.listdir(osp.join(voc, 'JPEGImages'))) == 8


def test_configs_read_the_export_and_generate_the_same_scenes(voc):
    """scenes_voc_seg.py reads the files; synthetic_scenes_multiclass.py
    generates the same scenes and class maps in memory."""
    files = Config.fromfile(osp.join(DATASETS_DIR, 'scenes_voc_seg.py'))
    files.train_dataloader.dataset.data_root = voc
    train = DATASETS.build(files.train_dataloader.dataset)
    assert len(train) == 6
    assert train.metainfo['classes'] == CLASSES
    memory = Config.fromfile(
        osp.join(DATASETS_DIR, 'synthetic_scenes_multiclass.py'))
    memory.train_dataloader.dataset.update(num_scenes=6, img_size=48)
    scenes = DATASETS.build(memory.train_dataloader.dataset)
    assert scenes.metainfo['classes'] == CLASSES
    sample = train[4]['data_samples']
    expected = scenes.get_data_info(4)['gt_seg_map']
    if sample.flip:
        expected = expected[:, ::-1]
    np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(),
                                  expected)
    labels = read_image_labels(osp.join(voc, 'ImageLabels', 'train.txt'))
    assert scenes.get_data_info(4)['gt_label'] == labels['train_00004']
    memory.val_dataloader.dataset.update(num_scenes=2, img_size=48)
    val = DATASETS.build(memory.val_dataloader.dataset)
    np.testing.assert_array_equal(
        val.get_data_info(1)['gt_seg_map'],
        load_label_map(osp.join(voc, 'SegmentationClass', 'val_00001.png')))


def test_image_label_dataset_gives_gt_label(voc):
    dataset = DATASETS.build(
        dict(
            type='ImageLabelDataset',
            data_root=voc,
            data_prefix=dict(img_path='JPEGImages'),
            ann_file='ImageLabels/val.txt',
            img_suffix='.png',
            pipeline=[
                dict(type='LoadImageBGR8'),
                dict(type='PackSegInputs', meta_keys=('img_path', 'gt_label'))
            ]))
    labels = read_image_labels(osp.join(voc, 'ImageLabels', 'val.txt'))
    out = dataset[1]
    assert out['data_samples'].gt_label == labels['val_00001']
    assert out['inputs'].shape == (3, 48, 48)


def test_rerun_keeps_files(voc, capsys):
    files = sorted(
        osp.join(d, f) for d, _, fs in os.walk(voc) for f in fs
        if f.endswith('.png'))
    mtimes = {f: os.stat(f).st_mtime_ns for f in files}
    capsys.readouterr()
    assert export_scenes.main([
        '--out', voc, '--layout', 'voc', '--size', '48', '--splits',
        'train:0:6', 'val:1:2'
    ]) == 0
    assert '0 images written now' in capsys.readouterr().out
    assert {f: os.stat(f).st_mtime_ns for f in files} == mtimes


def test_binary_voc_layout(tmp_path):
    out = str(tmp_path / 'bin')
    export_scenes.main([
        '--out', out, '--layout', 'voc', '--seg-labels', 'binary', '--size',
        '32', '--splits', 'train:0:2'
    ])
    seg = load_label_map(osp.join(out, 'SegmentationClass', 'train_00001.png'))
    assert set(np.unique(seg)) == {0, 1}
    labels = read_image_labels(osp.join(out, 'ImageLabels', 'train.txt'))
    assert labels == {'train_00000': [0], 'train_00001': [0]}


def test_label_file_format(tmp_path):
    path = str(tmp_path / 'labels.txt')
    write_image_labels(path, {'a': [2, 0], 'b': [], 'c/d': [3]})
    with open(path) as f:
        assert f.read() == 'a 2 0\nb\nc/d 3\n'
    with open(path, 'a') as f:
        f.write('\n# comment\ne 1 1\n')
    assert read_image_labels(path) == {
        'a': [0, 2],
        'b': [],
        'c/d': [3],
        'e': [1]
    }
    for text, match in (('a 1\na 2\n', 'line 2: image "a" is listed twice'),
                        ('a 1\nb x\n', r'line 2: "b x" is not a name'),
                        ('a -1\n', 'line 1')):
        with open(path, 'w') as f:
            f.write(text)
        with pytest.raises(ValueError, match=match):
            read_image_labels(path)
    with pytest.raises(FileNotFoundError, match='nowhere.txt'):
        read_image_labels(str(tmp_path / 'nowhere.txt'))


def test_seg_labels_needs_voc_layout(tmp_path, capsys):
    with pytest.raises(SystemExit):
        export_scenes.main(['--out', str(tmp_path), '--seg-labels', 'binary'])
    assert '--seg-labels needs --layout voc' in capsys.readouterr().err
