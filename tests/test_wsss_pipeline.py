"""WSSS end to end on a tiny multi-class embedded default: the command
sequence of tools/run_wsss_demo.sh run in-process (export, C²AM maps and
cues, class CAMs, baseline sweep, cue-refined and baseline labels, both
scored), the labels read through mmseg's BaseSegDataset, and a few
iterations of the segmentation config on them; infer_maps' cue options."""
import os.path as osp
import re

import export_scenes
import eval_pseudo_labels
import infer_cams
import infer_maps
import numpy as np
import pytest
import refine_cam_labels
import torch
from conftest import tiny_c2am_cfg, tiny_classifier_cfg, write_model_files
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmseg.registry import DATASETS

from mmc2am.datasets.transforms.loading import read_image_bgr8
from mmc2am.functional.cues import background_cue, read_cue
from mmc2am.functional.pseudo_labels import (IGNORE_INDEX, confusion_matrix,
                                             load_label_map,
                                             miou_from_confusion, read_cams,
                                             refine_labels, threshold_labels)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CLASSES = ('background', 'stripes', 'checks', 'dots', 'spots')
NUM_TRAIN = 6

pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def pipeline(tmp_path_factory):
    """Exports the scenes and writes maps, cues and CAMs once (one thread,
    mmseg's scope: the function fixtures do not reach a module fixture);
    returns the paths and arguments the tests share."""
    init_default_scope('mmseg')
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _maps_and_cams(tmp_path_factory.mktemp('wsss'))
    finally:
        torch.set_num_threads(threads)


def _maps_and_cams(tmp) -> dict:
    data, work = str(tmp / 'scenes_voc'), str(tmp / 'work')
    # 1. Multi-class scenes in the VOC layout.
    assert export_scenes.main([
        '--out', data, '--layout', 'voc', '--size', '64', '--splits',
        f'train:0:{NUM_TRAIN}', 'val:1:2'
    ]) == 0
    # 2. Maps and cues of a tiny C²AM (fixed weights, flipped polarity),
    # on the exported images as the script reads them.
    c2am_cfg, c2am = str(tmp / 'c2am.py'), str(tmp / 'c2am.pth')
    write_model_files(
        dict(default_scope='mmseg', model=tiny_c2am_cfg()),
        c2am_cfg,
        c2am,
        polarity=True)
    maps, cues = osp.join(work, 'maps'), osp.join(data, 'cues')
    images = [
        '--img-dir', f'{data}/JPEGImages', '--list',
        f'{data}/ImageSets/Segmentation/train.txt'
    ]
    assert infer_maps.main([
        c2am_cfg, c2am, *images, '--out', maps, '--cue-dir', cues,
        '--scales', '0.5', '1.0', '--workers', '0', '--strict'
    ]) == 0
    # 3. Class CAMs of a tiny 4-class classifier.
    cls_cfg, cls = str(tmp / 'cls.py'), str(tmp / 'cls.pth')
    write_model_files(
        dict(default_scope='mmseg', model=tiny_classifier_cfg(4)), cls_cfg,
        cls)
    cams = osp.join(work, 'cams')
    assert infer_cams.main([
        cls_cfg, cls, '--img-dir', f'{data}/JPEGImages', '--labels',
        f'{data}/ImageLabels/train.txt', '--out-dir', cams, '--scales', '1.0',
        '--workers', '0', '--strict'
    ]) == 0
    gt_args = [
        '--gt', f'{data}/SegmentationClass', '--num-classes', '5',
        '--class-names', ','.join(CLASSES), '--list',
        f'{data}/ImageSets/Segmentation/train.txt'
    ]
    return dict(
        tmp=tmp,
        data=data,
        work=work,
        maps=maps,
        cues=cues,
        cams=cams,
        gt_args=gt_args,
        c2am_cfg=c2am_cfg,
        c2am=c2am,
        images=images)


def _run_sequence(p: dict, capsys) -> dict:
    """Steps 4-6 of the script; returns the labels folders and reports."""
    list_file = f'{p["data"]}/ImageSets/Segmentation/train.txt'
    # 4. The baseline sweep chooses its best threshold on the same CAMs.
    assert eval_pseudo_labels.main(['--sweep', p['cams']] + p['gt_args']) == 0
    sweep = capsys.readouterr().out
    best = re.search(r'^best baseline: threshold ([0-9.]+),', sweep, re.M)
    assert best, sweep
    best = best.group(1)
    # 5. Cue-refined and baseline labels.
    labels = dict(
        cues=osp.join(p['data'], 'pseudo_labels'),
        baseline=osp.join(p['work'], f'labels_baseline_{best}'))
    assert refine_cam_labels.main([
        '--cams', p['cams'], '--cues', p['cues'], '--out', labels['cues'],
        '--list', list_file, '--strict'
    ]) == 0
    assert refine_cam_labels.main([
        '--cams', p['cams'], '--baseline-threshold', best, '--out',
        labels['baseline'], '--list', list_file, '--strict'
    ]) == 0
    capsys.readouterr()
    # 6. Both scored.
    reports = {}
    for key, folder in labels.items():
        assert eval_pseudo_labels.main(['--pred', folder] + p['gt_args']) == 0
        reports[key] = capsys.readouterr().out
    return dict(best=float(best), labels=labels, reports=reports)


def _printed_miou(report: str) -> float:
    found = re.search(r'^mIoU ([0-9.]+)%', report, re.M)
    assert found, report
    return float(found.group(1))


def test_sequence_writes_and_scores_both_label_sets(pipeline, capsys):
    p = pipeline
    run = _run_sequence(p, capsys)
    names = [f'train_{i:05d}' for i in range(NUM_TRAIN)]
    confusions = {k: np.zeros((5, 5), np.int64) for k in run['labels']}
    for name in names:
        cams, class_ids = read_cams(osp.join(p['cams'], name + '.npy'))
        cue = read_cue(osp.join(p['cues'], name + '.png'))
        # The cue is the saved map's, thresholded at 0.3 and CRF-refined.
        obj_map = np.load(osp.join(p['maps'], name + '.npy'))
        img = read_image_bgr8(osp.join(p['data'], 'JPEGImages', name + '.png'))
        np.testing.assert_array_equal(
            cue * 255, background_cue(obj_map.astype(np.float32), img))
        expected = dict(
            cues=refine_labels(cams, class_ids, cue),
            baseline=threshold_labels(cams, class_ids, run['best']))
        gt = load_label_map(
            osp.join(p['data'], 'SegmentationClass', name + '.png'))
        for key, folder in run['labels'].items():
            labels = load_label_map(osp.join(folder, name + '.png'))
            np.testing.assert_array_equal(labels, expected[key])
            # Only the background and the image's own classes.
            assert set(np.unique(labels)) <= {0, *class_ids}
            confusions[key] += confusion_matrix(labels, gt, 5)
    # Each printed mIoU is that of the labels against the true masks.
    for key, report in run['reports'].items():
        miou = miou_from_confusion(confusions[key])['miou'] * 100
        assert _printed_miou(report) == pytest.approx(miou, abs=0.005)
        assert 'stripes' in report and 'FP' in report
    # The baseline's threshold is the best of the sweep's grid.
    grid = eval_pseudo_labels.sweep_grid(0.05, 0.95, 0.05)
    mious = []
    for t in grid:
        confusion = np.zeros((5, 5), np.int64)
        for name in names:
            cams, class_ids = read_cams(osp.join(p['cams'], name + '.npy'))
            gt = load_label_map(
                osp.join(p['data'], 'SegmentationClass', name + '.png'))
            confusion += confusion_matrix(
                threshold_labels(cams, class_ids, t), gt, 5)
        mious.append(miou_from_confusion(confusion)['miou'])
    assert run['best'] == pytest.approx(grid[int(np.nanargmax(mious))])
    assert _printed_miou(run['reports']['baseline']) == pytest.approx(
        max(mious) * 100, abs=0.005)

    # mmseg reads the labels: BaseSegDataset in the VOC layout.
    dataset = DATASETS.build(
        dict(
            type='BaseSegDataset',
            data_root=p['data'],
            metainfo=dict(classes=CLASSES),
            data_prefix=dict(
                img_path='JPEGImages', seg_map_path='pseudo_labels'),
            ann_file='ImageSets/Segmentation/train.txt',
            img_suffix='.png',
            seg_map_suffix='.png',
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadAnnotations')
            ]))
    assert len(dataset) == NUM_TRAIN
    for i in range(NUM_TRAIN):
        seg = dataset[i]['gt_seg_map']
        assert seg.shape == (64, 64)
        assert set(np.unique(seg)) <= {0, 1, 2, 3, 4, IGNORE_INDEX}

    # A second run of the sequence resumes: nothing is written again.
    assert refine_cam_labels.main([
        '--cams', p['cams'], '--cues', p['cues'], '--out',
        run['labels']['cues']
    ]) == 0
    assert f'0 label maps written to {run["labels"]["cues"]}, {NUM_TRAIN} ' \
        'already there' in capsys.readouterr().out


def test_segmentation_config_trains_on_the_pseudo_labels(
        pipeline, capsys, tmp_path):
    p = pipeline
    if not osp.isfile(
            osp.join(p['data'], 'pseudo_labels',
                     f'train_{NUM_TRAIN - 1:05d}.png')):
        _run_sequence(p, capsys)
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'wsss', 'deeplabv3_r18_pseudo_scenes.py'))
    cfg.work_dir = str(tmp_path)
    cfg.model.backbone.init_cfg = None
    for key in ('train_dataloader', 'val_dataloader'):
        cfg[key].dataset.data_root = p['data']
        cfg[key].batch_size = 2
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.param_scheduler[0].end = 2
    cfg.default_hooks.checkpoint.interval = 2
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert osp.isfile(tmp_path / 'iter_2.pth')
    metrics = runner.val_loop.run()
    assert 0 <= metrics['mIoU'] <= 100


def test_cues_of_other_settings_come_from_the_saved_maps(
        pipeline, monkeypatch):
    p = pipeline
    argv = [
        p['c2am_cfg'], p['c2am'], *p['images'], '--out', p['maps'],
        '--workers', '0'
    ]
    cues = str(p['tmp'] / 'cues_0.5')

    def no_model(*args, **kwargs):
        raise AssertionError('the maps are saved: no model is needed')

    monkeypatch.setattr(infer_maps, 'init_c2am', no_model)
    assert infer_maps.main(argv + [
        '--cue-dir', cues, '--cue-threshold', '0.5', '--no-crf', '--scales',
        '0.5', '1.0', '--strict'
    ]) == 0
    for i in range(NUM_TRAIN):
        name = f'train_{i:05d}'
        obj_map = np.load(osp.join(p['maps'], name + '.npy'))
        cue = load_label_map(osp.join(cues, name + '.png'))
        np.testing.assert_array_equal(cue, (obj_map > 0.5) * 255)
    # Other cue settings in the same folder are refused.
    with pytest.raises(ValueError, match='threshold'):
        infer_maps.main(argv + [
            '--cue-dir', cues, '--cue-threshold', '0.4', '--no-crf',
            '--scales', '0.5', '1.0'
        ])
    with pytest.raises(ValueError, match='--cue-threshold must lie in'):
        infer_maps.main(argv + [
            '--cue-dir',
            str(p['tmp'] /
                'cues_bad'), '--cue-threshold', '1.5', '--scales', '0.5', '1.0'
        ])
