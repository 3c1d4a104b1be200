"""The procedural scene generator and SyntheticScenesDataset."""
import os.path as osp
import time

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.runner import Runner
from mmseg.registry import DATASETS, METRICS, MODELS

from mmc2am.datasets import SHAPE_FAMILIES, generate_scene
from mmc2am.datasets.synthetic import mask_to_box, shape_outline

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(ROOT, 'configs', '_base_', 'datasets', 'synthetic_scenes.py')
KEYS = ('img', 'mask', 'instances', 'boxes', 'labels')


@pytest.fixture(scope='module')
def scenes():
    return [generate_scene((0, i)) for i in range(60)]


def test_mask_to_box_hand_case():
    mask = np.zeros((8, 10), np.uint8)
    mask[2:5, 3:7] = 1  # rows 2..4, columns 3..6
    mask[4, 8] = 1
    np.testing.assert_array_equal(mask_to_box(mask), [3, 2, 9, 5])


def test_same_seed_same_scene_other_seed_other_scene():
    a, b = generate_scene((3, 7)), generate_scene((3, 7))
    for key in KEYS:
        np.testing.assert_array_equal(a[key], b[key])
    assert a['label'] == b['label']
    for other in ((4, 7), (3, 8)):
        assert not np.array_equal(a['img'], generate_scene(other)['img'])
    rng = np.random.default_rng((3, 7))
    np.testing.assert_array_equal(generate_scene(rng)['img'], a['img'])


def test_scene_arrays_and_boxes_match_masks(scenes):
    for scene in scenes:
        img, inst, boxes = scene['img'], scene['instances'], scene['boxes']
        assert img.shape == (128, 128, 3) and img.dtype == np.uint8
        assert boxes.dtype == np.float32 and scene['labels'].dtype == np.int64
        k = len(boxes)
        assert 1 <= k <= 3 and len(scene['labels']) == k
        np.testing.assert_array_equal(scene['mask'], inst > 0)
        assert set(np.unique(inst)) == set(range(k + 1))
        areas = [(inst == j + 1).sum() for j in range(k)]
        assert areas == sorted(areas, reverse=True)  # largest first
        assert scene['label'] == scene['labels'][0]
        for j in range(k):
            rows, cols = np.nonzero(inst == j + 1)
            np.testing.assert_array_equal(
                boxes[j],
                [cols.min(),
                 rows.min(),
                 cols.max() + 1,
                 rows.max() + 1])


def test_objects_vary_in_number_shape_size_and_place(scenes):
    counts = np.array([len(s['boxes']) for s in scenes])
    assert (counts >= 2).mean() >= 1 / 3
    assert (counts == 3).any()
    assert set(s['label'] for s in scenes) == set(range(len(SHAPE_FAMILIES)))
    main = np.array([s['boxes'][0] for s in scenes])
    extent = np.maximum(main[:, 2] - main[:, 0], main[:, 3] - main[:, 1])
    assert extent.min() < 0.3 * 128 and extent.max() > 0.5 * 128
    centres = (main[:, :2] + main[:, 2:]) / 2
    assert centres.std(0).min() > 15  # not always in the middle
    every = np.concatenate([s['boxes'] for s in scenes])
    touching = ((every[:, :2] == 0).any(1) | (every[:, 2:] == 128).any(1))
    assert 0 < touching.mean() < 0.4


def test_objects_differ_in_colour_but_not_by_brightness(scenes):
    distance, brighter, fg_grey, bg_grey = [], [], [], []
    for scene in scenes:
        img, mask = scene['img'].astype(np.float32), scene['mask'] > 0
        distance.append(np.linalg.norm(img[mask].mean(0) - img[~mask].mean(0)))
        grey = cv2.cvtColor(scene['img'], cv2.COLOR_BGR2GRAY).astype(float)
        brighter.append(grey[mask].mean() > grey[~mask].mean())
        fg_grey.append(grey[mask])
        bg_grey.append(grey[~mask])
    assert np.mean(np.array(distance) > 25) >= 0.9
    # Per scene, objects are brighter about as often as darker...
    assert 0.3 <= np.mean(brighter) <= 0.7
    # ...and pooled over scenes, a random object pixel is brighter than a
    # random background pixel with a probability near 1/2.
    rng = np.random.default_rng(0)
    fg = rng.choice(np.concatenate(fg_grey), 20000)
    bg = rng.choice(np.concatenate(bg_grey), 20000)
    assert 0.35 <= (fg > bg).mean() + 0.5 * (fg == bg).mean() <= 0.65


def test_objects_differ_in_texture(scenes):
    """The local contrast statistic differs between object and background:
    the ratio of mean |Laplacian| inside / outside is far from 1."""
    ratios = []
    for scene in scenes:
        grey = cv2.cvtColor(scene['img'], cv2.COLOR_BGR2GRAY)
        lap = np.abs(cv2.Laplacian(grey.astype(np.float32), cv2.CV_32F))
        kernel = np.ones((3, 3), np.uint8)
        inside = cv2.erode(scene['mask'], kernel) > 0
        outside = cv2.dilate(scene['mask'], kernel) == 0
        ratios.append(lap[inside].mean() / lap[outside].mean())
    assert np.mean(np.abs(np.log(ratios)) > np.log(1.25)) >= 0.7


def test_generation_is_fast():
    start = time.perf_counter()
    for i in range(20):
        generate_scene((9, i))
    assert (time.perf_counter() - start) / 20 < 0.03


def test_rectangular_scenes_and_bad_family():
    scene = generate_scene(1, size=(64, 96))
    assert scene['img'].shape == (64, 96, 3)
    assert (scene['boxes'][:, 2] <= 96).all()
    with pytest.raises(ValueError, match='hexagon'):
        shape_outline(np.random.default_rng(0), 'hexagon')


# ------------------------------------------------------------------ dataset
def test_dataset_sample_is_the_generated_scene():
    dataset = DATASETS.build(
        dict(type='SyntheticScenesDataset', num_scenes=5, seed=4))
    assert len(dataset) == 5
    assert dataset.metainfo['classes'] == ('background', 'object')
    info = dataset.get_data_info(3)
    scene = generate_scene((4, 3))
    np.testing.assert_array_equal(info['img'], scene['img'])
    np.testing.assert_array_equal(info['gt_seg_map'], scene['mask'])
    np.testing.assert_array_equal(info['gt_bboxes'], scene['boxes'])
    np.testing.assert_array_equal(info['gt_bboxes_labels'], scene['labels'])
    assert info['gt_label'] == scene['label']
    assert info['img_path'] == 'synthetic/seed4/00003.png'
    assert info['img_shape'] == info['ori_shape'] == (128, 128)
    assert info['seg_fields'] == ['gt_seg_map']
    # A subset keeps each scene's identity.
    subset = DATASETS.build(
        dict(type='SyntheticScenesDataset', num_scenes=5, seed=4, indices=[3]))
    np.testing.assert_array_equal(subset.get_data_info(0)['img'], scene['img'])
    with pytest.raises(ValueError, match='num_scenes=0'):
        DATASETS.build(dict(type='SyntheticScenesDataset', num_scenes=0))


def test_config_splits_pack_boxes_and_labels():
    cfg = Config.fromfile(CONFIG)
    seeds = [
        cfg[f'{split}_dataloader'].dataset.seed
        for split in ('train', 'val', 'test')
    ]
    assert seeds == [0, 1, 2]
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.dataset.num_scenes = 4
        dataset = DATASETS.build(loader.dataset)
        out = dataset[2]
        sample = out['data_samples']
        scene = generate_scene((loader.dataset.seed, 2))
        assert out['inputs'].shape == (3, 128, 128)
        assert sample.gt_label == scene['label']
        np.testing.assert_array_equal(sample.gt_bboxes_labels, scene['labels'])
        mask = sample.gt_sem_seg.data[0].numpy()
        boxes = sample.gt_bboxes
        if sample.get('flip', False):  # the training pipeline may flip
            np.testing.assert_array_equal(mask, scene['mask'][:, ::-1])
        else:
            np.testing.assert_array_equal(mask, scene['mask'])
            np.testing.assert_array_equal(out['inputs'].numpy(),
                                          scene['img'].transpose(2, 0, 1))
        np.testing.assert_array_equal(
            mask_to_box(mask), [
                boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(),
                boxes[:, 3].max()
            ])


def _through(pipeline, scene):
    """Run transforms on a scene, with the instance map as seg map."""
    results = dict(
        img=scene['img'],
        gt_seg_map=scene['instances'],
        gt_bboxes=scene['boxes'].copy(),
        seg_fields=['gt_seg_map'],
        img_shape=scene['img'].shape[:2],
        ori_shape=scene['img'].shape[:2])
    return Compose(pipeline)(results)


@pytest.mark.parametrize('pipeline, tolerance', [
    ([dict(type='Resize', scale=(256, 256), keep_ratio=False)], 0),
    ([dict(type='Resize', scale=(192, 192), keep_ratio=False)], 1.5),
    ([dict(type='Resize', scale=(256, 192), keep_ratio=False)], 1),
    ([dict(type='RandomFlip', prob=1.0, direction='horizontal')], 0),
])
def test_transforms_move_boxes_with_masks(scenes, pipeline, tolerance):
    for scene in scenes[:20]:
        out = _through(pipeline, scene)
        for k, box in enumerate(out['gt_bboxes'], 1):
            diff = np.abs(mask_to_box(out['gt_seg_map'] == k) - box).max()
            assert diff <= tolerance


def test_centre_crop_clips_boxes(scenes):
    """After a centre crop every box is the shifted box clipped to the crop;
    an object inside the crop keeps the exact box of its mask, a cut one's
    box contains its visible mask."""
    pipeline = [
        dict(type='Resize', scale=(256, 256), keep_ratio=False),
        dict(type='CenterCrop', crop_size=(160, 120))
    ]
    kinds = set()
    for scene in scenes[:30]:
        out = _through(pipeline, scene)
        for k, box in enumerate(out['gt_bboxes'], 1):
            # Crop offset: x1 = (256 - 160) / 2 = 48, y1 = (256 - 120) / 2.
            whole = scene['boxes'][k - 1] * 2 - [48, 68, 48, 68]
            np.testing.assert_array_equal(
                box, np.clip(whole, 0, [160, 120, 160, 120]))
            mask = out['gt_seg_map'] == k
            if not mask.any():
                kinds.add('gone')
                continue
            visible = mask_to_box(mask)
            if (whole[:2] >= 0).all() and (whole[2:] <= [160, 120]).all():
                kinds.add('inside')
                np.testing.assert_array_equal(visible, box)
            else:
                kinds.add('cut')
                assert (visible[:2] >= box[:2]).all()
                assert (visible[2:] <= box[2:]).all()
    assert kinds == {'inside', 'cut', 'gone'}


def test_boxes_reach_the_model_through_loader_and_preprocessor():
    cfg = Config.fromfile(CONFIG).test_dataloader
    cfg.update(num_workers=0, persistent_workers=False, batch_size=3)
    cfg.dataset.num_scenes = 3
    batch = next(iter(Runner.build_dataloader(cfg)))
    preprocessor = MODELS.build(
        dict(type='SegDataPreProcessor', mean=[0] * 3, std=[1] * 3))
    data = preprocessor(batch, training=False)
    assert data['inputs'].shape == (3, 3, 128, 128)
    for index, sample in enumerate(data['data_samples']):
        scene = generate_scene((2, index))
        np.testing.assert_array_equal(sample.gt_bboxes, scene['boxes'])
        assert sample.gt_label == scene['label']
        np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(),
                                      scene['mask'])


def test_textures_and_label_types():
    scene = generate_scene((0, 1))
    assert scene['textures'].dtype == np.int64
    assert len(scene['textures']) == len(scene['boxes'])
    assert set(scene['textures'].tolist()) <= set(range(4))
    expected = dict(
        shape=scene['label'],
        texture=int(scene['textures'][0]),
        textures=sorted(set(scene['textures'].tolist())),
        shapes_textures=sorted(set(scene['labels'].tolist())) +
        [4 + t for t in sorted(set(scene['textures'].tolist()))])
    for label_type, label in expected.items():
        dataset = DATASETS.build(
            dict(
                type='SyntheticScenesDataset',
                num_scenes=2,
                seed=0,
                label_type=label_type))
        assert dataset.get_data_info(1)['gt_label'] == label
    assert dataset.metainfo['textures'] == ('stripes', 'checks', 'dots',
                                            'spots')
    with pytest.raises(ValueError, match='label_type="colour"'):
        DATASETS.build(
            dict(type='SyntheticScenesDataset', label_type='colour'))


def test_cache_keeps_scenes_and_changes_nothing():
    plain = DATASETS.build(
        dict(type='SyntheticScenesDataset', num_scenes=3, seed=5))
    cached = DATASETS.build(
        dict(type='SyntheticScenesDataset', num_scenes=3, seed=5, cache=True))
    first = cached.get_data_info(2)
    assert cached.get_data_info(2)['img'] is first['img']  # not regenerated
    np.testing.assert_array_equal(first['img'], plain.get_data_info(2)['img'])
    assert plain.get_data_info(2)['img'] is not plain.get_data_info(2)['img']


def test_texture_classes_variant():
    """seg_labels='textures': object k of texture t is class 1 + t."""
    dataset = DATASETS.build(
        dict(
            type='SyntheticScenesDataset',
            num_scenes=4,
            seed=0,
            img_size=64,
            seg_labels='textures',
            label_type='textures'))
    assert dataset.metainfo['classes'] == ('background', 'stripes', 'checks',
                                           'dots', 'spots')
    assert len(dataset.metainfo['palette']) == 5
    seen = set()
    for index in range(4):
        info = dataset.get_data_info(index)
        scene = generate_scene((0, index), 64)
        expected = np.zeros((64, 64), np.uint8)
        for k, texture in enumerate(scene['textures']):
            expected[scene['instances'] == k + 1] = texture + 1
        np.testing.assert_array_equal(info['gt_seg_map'], expected)
        present = sorted(set(np.unique(expected).tolist()) - {0})
        assert info['gt_label'] == [c - 1 for c in present]
        seen.update(present)
    assert len(seen) >= 2  # several classes in 4 scenes
    binary = DATASETS.build(
        dict(type='SyntheticScenesDataset', num_scenes=1, img_size=64))
    assert binary.metainfo['classes'] == ('background', 'object')
    assert binary.get_data_info(0)['gt_seg_map'].max() == 1
    with pytest.raises(ValueError, match='seg_labels="shapes"'):
        DATASETS.build(
            dict(type='SyntheticScenesDataset', seg_labels='shapes'))


def test_iou_metric_counts_texture_classes():
    """mmseg's IoUMetric takes its class count from dataset_meta."""
    dataset = DATASETS.build(
        dict(
            type='SyntheticScenesDataset',
            num_scenes=1,
            img_size=32,
            seg_labels='textures'))
    metric = METRICS.build(dict(type='IoUMetric', iou_metrics=['mIoU']))
    metric.dataset_meta = dataset.metainfo
    seg = torch.from_numpy(dataset.get_data_info(0)['gt_seg_map'])[None]
    sample = dict(
        pred_sem_seg=dict(data=seg.long()), gt_sem_seg=dict(data=seg.long()))
    metric.process([], [sample])
    assert len(metric.results[0][0]) == 5  # area_intersect of 5 classes
