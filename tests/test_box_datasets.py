"""Data sets with ground-truth boxes (CUB, ILSVRC, COCO json) and masks, on
fabricated trees: boxes through the recipe's resize 480 + centre crop 448
against values computed by hand."""
import json
import os
import os.path as osp

import fabricate
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, TRANSFORMS

from mmc2am.datasets import read_voc_boxes

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PIPELINE = Config.fromfile(
    osp.join(ROOT, 'configs', '_base_', 'datasets',
             'wsol_test_pipeline.py')).wsol_test_pipeline

# The fabricated images are 40 x 30 (W x H): resize 480 x 480 scales x by
# 12 and y by 16; the centre crop 448 starts at round(32 / 2) = 16.


def _crop_frame(box, width=40, height=30):
    x0, y0, x1, y1 = box
    sx, sy = 480 / width, 480 / height
    return np.clip([x0 * sx - 16, y0 * sy - 16, x1 * sx - 16, y1 * sy - 16], 0,
                   448)


def _build(cfg):
    return DATASETS.build(dict(cfg, pipeline=PIPELINE))


# ---------------------------------------------------------------------- CUB
def test_cub_boxes_classes_and_masks_through_the_pipeline(tmp_path):
    names = fabricate.cub(str(tmp_path))
    fabricate.cub_masks(str(tmp_path), names['test'])
    dataset = _build(
        dict(
            type='CUBBoxDataset',
            data_root=str(tmp_path),
            split='test',
            mask_prefix='segmentations'))
    assert len(dataset) == 2
    assert dataset.metainfo['box_classes'] == ('001.Black_footed_Albatross',
                                               '002.Laysan_Albatross')
    raw = dataset.get_data_info(1)
    # bounding_boxes.txt: x 2, y 3, w 20, h 15 -> [2, 3, 22, 18].
    assert raw['instances'] == [
        dict(bbox=[2.0, 3.0, 22.0, 18.0], bbox_label=1, ignore_flag=0)
    ]
    sample = dataset[1]['data_samples']
    assert sample.img_path.endswith(names['test'][1])
    assert sample.gt_label == 1  # class 2, 0-based
    # [2*12-16, 3*16-16, 22*12-16, 18*16-16]
    np.testing.assert_allclose(sample.gt_bboxes, [[8, 32, 248, 272]])
    np.testing.assert_allclose(sample.gt_bboxes, [_crop_frame([2, 3, 22, 18])])
    # Mask: rows 3-17 and columns 2-22 (the soft 100 border counts, as in
    # wsolevaluation) -> rows 32-271, columns 8-259 of the crop.
    mask = sample.gt_sem_seg.data[0].numpy()
    expected = np.zeros((448, 448), np.uint8)
    expected[32:272, 8:260] = 1
    np.testing.assert_array_equal(mask, expected)


def test_cub_mask_threshold_and_missing_files(tmp_path):
    names = fabricate.cub(str(tmp_path))
    paths = fabricate.cub_masks(str(tmp_path), names['test'])
    load = TRANSFORMS.build(
        dict(type='LoadWSOLAnnotations', mask_threshold=127))
    out = load(
        dict(img=np.zeros((30, 40, 3), np.uint8), seg_map_path=paths[0]))
    assert out['gt_seg_map'].sum() == 15 * 20  # the 100 column is out
    assert out['seg_fields'] == ['gt_seg_map']
    assert out['gt_bboxes'].shape == (0, 4)  # no instances: no box
    assert out['gt_bboxes'].dtype == np.float32
    with pytest.raises(ValueError, match='pixel-aligned'):
        load(
            dict(
                img=np.zeros((31, 40, 3), np.uint8),
                seg_map_path=paths[0],
                img_path='x.jpg'))
    assert 'gt_seg_map' not in load(
        dict(img=np.zeros((2, 2, 3)), seg_map_path=None))
    os.remove(paths[1])
    with pytest.raises(FileNotFoundError, match='mask'):
        DATASETS.build(
            dict(
                type='CUBBoxDataset',
                data_root=str(tmp_path),
                split='test',
                mask_prefix='segmentations'))


def test_cub_bad_box_lines_are_named(tmp_path):
    fabricate.cub(str(tmp_path))
    boxes = tmp_path / 'bounding_boxes.txt'
    lines = boxes.read_text().splitlines()
    boxes.write_text('\n'.join(lines[:-1] + ['6 1.0 2.0 3.0']) + '\n')
    with pytest.raises(ValueError, match='image id 6'):
        DATASETS.build(
            dict(type='CUBBoxDataset', data_root=str(tmp_path), split='all'))
    boxes.write_text('\n'.join(lines[:-1]) + '\n')
    with pytest.raises(ValueError, match='no line for image id 6'):
        DATASETS.build(
            dict(type='CUBBoxDataset', data_root=str(tmp_path), split='all'))


# ------------------------------------------------------------------- ILSVRC
def test_read_voc_boxes(tmp_path):
    path = fabricate.voc_xml(
        str(tmp_path / 'a.xml'), [('n1', [1, 2, 3, 4]), ('n2', [5, 6, 7, 8])])
    assert read_voc_boxes(path) == ([[1, 2, 3, 4], [5, 6, 7, 8]], ['n1', 'n2'])
    bad = fabricate.write_text(
        str(tmp_path / 'b.xml'), [
            '<annotation><object><bndbox><xmin>1</xmin></bndbox></object>'
            '</annotation>'
        ])
    with pytest.raises(ValueError, match='b.xml: object 1'):
        read_voc_boxes(bad)
    broken = fabricate.write_text(str(tmp_path / 'c.xml'), ['<annotation>'])
    with pytest.raises(ValueError, match='not a valid XML'):
        read_voc_boxes(broken)


def test_ilsvrc_val_boxes_labels_and_missing_xml(tmp_path):
    fabricate.ilsvrc_boxes(str(tmp_path))
    cfg = dict(type='ILSVRCBoxDataset', data_root=str(tmp_path))
    with pytest.raises(FileNotFoundError, match='00000003.JPEG has no box'):
        DATASETS.build(cfg)
    dataset = _build(dict(cfg, missing_boxes='empty'))
    assert dataset.metainfo['box_classes'] == ('n01440764', 'n01443537')
    first, second, third = (dataset[i]['data_samples'] for i in range(3))
    np.testing.assert_allclose(first.gt_bboxes, [_crop_frame([2, 3, 30, 20])])
    assert first.gt_label == 0
    # Two boxes; the second is clipped by the crop: [12, 4, 39, 29] ->
    # [128, 48, 452 -> 448, 448].
    np.testing.assert_allclose(
        second.gt_bboxes, [_crop_frame([1, 1, 10, 10]), [128, 48, 448, 448]])
    assert second.gt_label == 1
    assert third.gt_bboxes.shape == (0, 4) and 'gt_label' not in third
    assert len(_build(dict(cfg, missing_boxes='skip'))) == 2


def test_ilsvrc_training_boxes_list_and_per_class(tmp_path):
    names = fabricate.ilsvrc_boxes(str(tmp_path))['train']
    cfg = dict(
        type='ILSVRCBoxDataset',
        data_root=str(tmp_path),
        data_prefix=dict(img_path='train'),
        box_prefix='train_boxes')
    dataset = DATASETS.build(dict(cfg, missing_boxes='skip'))
    assert len(dataset) == 1
    info = dataset.get_data_info(0)
    assert info['instances'][0]['bbox'] == [5, 5, 25, 25]
    # A train_cls.txt-style list (path without suffix, then an index), and
    # the class of a box-less image from its folder.
    fabricate.write_text(
        str(tmp_path / 'train_cls.txt'),
        [f'{osp.splitext(n)[0]} {i + 1}' for i, n in enumerate(names)])
    dataset = DATASETS.build(
        dict(
            cfg,
            ann_file='train_cls.txt',
            img_suffix='.JPEG',
            missing_boxes='empty',
            per_class=1))
    assert [osp.basename(d['img_path']) for d in dataset
            ] == ['n01440764_1000.JPEG', 'n01443537_1000.JPEG']
    assert [d['gt_label'] for d in dataset] == [0, 1]
    # A class file orders the classes.
    fabricate.write_text(
        str(tmp_path / 'synsets.txt'),
        ['n01443537 tench', 'n01440764 goldfish'])
    dataset = DATASETS.build(
        dict(cfg, missing_boxes='skip', class_file='synsets.txt'))
    assert dataset.get_data_info(0)['gt_label'] == 1


# --------------------------------------------------------------------- COCO
def test_coco_boxes_labels_small_image_and_no_box(tmp_path):
    fabricate.coco_boxes(str(tmp_path))
    dataset = _build(
        dict(
            type='CocoBoxDataset',
            data_root=str(tmp_path),
            ann_file='boxes.json',
            data_prefix=dict(img_path='images')))
    assert dataset.metainfo['box_classes'] == ('ant', 'cat')
    a, c, small = (dataset[i]['data_samples'] for i in range(3))
    np.testing.assert_allclose(
        a.gt_bboxes,
        [_crop_frame([2, 3, 22, 18]),
         _crop_frame([25, 5, 35, 25])])
    np.testing.assert_array_equal(a.gt_bboxes_labels, [1, 0])
    assert a.gt_label == 1  # the class of its largest box (cat, 300 px)
    assert c.gt_bboxes.shape == (0, 4) and 'gt_label' not in c
    # 10 x 8, smaller than the crop: resized to 480 first (x48, y60), so
    # [1, 2, 7, 6] -> [48 - 16, 120 - 16, 336 - 16, 360 - 16].
    assert small.ori_shape == (8, 10)
    np.testing.assert_allclose(small.gt_bboxes, [[32, 104, 320, 344]])
    assert tuple(dataset[2]['inputs'].shape) == (3, 448, 448)


def test_coco_bad_files_are_named(tmp_path):
    content = fabricate.coco_boxes(str(tmp_path))
    cfg = dict(
        type='CocoBoxDataset',
        data_root=str(tmp_path),
        ann_file='boxes.json',
        data_prefix=dict(img_path='images'))
    content['annotations'][0]['category_id'] = 99
    (tmp_path / 'boxes.json').write_text(json.dumps(content))
    with pytest.raises(ValueError, match='category_id 99'):
        DATASETS.build(cfg)
    (tmp_path / 'boxes.json').write_text('{"images": []}')
    with pytest.raises(ValueError, match="no list.*'annotations'"):
        DATASETS.build(cfg)
    with pytest.raises(FileNotFoundError, match='nothing.json'):
        DATASETS.build(dict(cfg, ann_file='nothing.json'))
    content = fabricate.coco_boxes(str(tmp_path))
    os.remove(tmp_path / 'images' / 'small.png')
    with pytest.raises(FileNotFoundError, match='small.png'):
        DATASETS.build(cfg)
    assert len(DATASETS.build(dict(cfg, skip_missing=True))) == 2
    content['annotations'][0]['bbox'] = [5, 5, -2, 3]
    (tmp_path / 'boxes.json').write_text(json.dumps(content))
    with pytest.raises(ValueError, match='x0 <= x1'):
        DATASETS.build(dict(cfg, skip_missing=True))


def test_box_dataset_in_an_mmdet_pipeline(tmp_path):
    """Under mmdet's scope the same data set (registered there too) feeds
    mmdet's LoadAnnotations: after the resize, as in mmdet's test
    pipelines, the boxes stay in the original image; before it, they are
    resized."""
    fabricate.cub(str(tmp_path))
    init_default_scope('mmdet')
    from mmdet.registry import DATASETS as DET_DATASETS
    resize = dict(type='Resize', scale=(80, 60), keep_ratio=False)
    load = dict(type='LoadAnnotations', with_bbox=True)
    pack = dict(type='PackDetInputs', meta_keys=('img_path', 'gt_label'))
    for steps, expected in (([resize, load], [2, 3, 22,
                                              18]), ([load,
                                                      resize], [4, 6, 44,
                                                                36])):  # x2
        dataset = DET_DATASETS.build(
            dict(
                type='CUBBoxDataset',
                data_root=str(tmp_path),
                split='test',
                pipeline=[dict(type='LoadImageFromFile')] + steps + [pack]))
        sample = dataset[0]['data_samples']
        np.testing.assert_allclose(sample.gt_instances.bboxes.tensor,
                                   [expected])
        assert sample.gt_label == 0
