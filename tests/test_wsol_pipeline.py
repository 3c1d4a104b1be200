"""WSOL end to end: the leaf test configs on fabricated trees, and on the
embedded default C²AM training, testing at the held-out threshold,
pictures, pseudo boxes, and both localizers trained and evaluated."""
import json
import os
import os.path as osp

import cv2
import export_scenes
import extract_boxes
import fabricate
import pytest
import torch
import visualize_maps
from conftest import tiny_c2am_cfg
from mmengine.config import Config
from mmengine.runner import Runner
from mmseg.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


pytestmark = pytest.mark.usefixtures('one_thread')


def _wsol_cfg(name, work_dir):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'wsol', name))
    cfg.model = dict(tiny_c2am_cfg(), test_cfg=dict(output_frame='img_shape'))
    cfg.work_dir = str(work_dir)
    cfg.visualizer.name = f'vis_{work_dir}'
    cfg.test_evaluator.curve = False
    loaders = [cfg.test_dataloader, cfg.test_cfg.held_out_dataloader]
    for loader in loaders:
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
    return cfg, loaders


def _tiny_checkpoint(path):
    torch.manual_seed(0)
    model = MODELS.build(tiny_c2am_cfg())
    model.set_polarity(True)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, str(path))
    return str(path)


def _fabricated(kind, root):
    """(leaf config, dataset overrides for test / held-out, test size)."""
    if kind == 'cub':
        names = fabricate.cub(root)
        fabricate.cub_masks(root, names['test'])
        return 'c2am_r50_cub_wsol.py', [
            dict(data_root=root, mask_prefix='segmentations'),
            dict(data_root=root)
        ], 2
    if kind == 'ilsvrc':
        fabricate.ilsvrc_boxes(root)
        return 'c2am_r50_ilsvrc_wsol.py', [
            dict(data_root=root, missing_boxes='empty'),
            dict(data_root=root)
        ], 3
    fabricate.coco_boxes(root)
    coco = dict(data_root=root, ann_file='boxes.json')
    return 'c2am_r50_coco_wsol.py', [coco, coco], 3


@pytest.mark.parametrize('kind', ['cub', 'ilsvrc', 'coco'])
def test_leaf_config_on_fabricated_tree(kind, tmp_path):
    name, overrides, num = _fabricated(kind, str(tmp_path / 'data'))
    cfg, loaders = _wsol_cfg(name, tmp_path / 'work')
    for loader, override in zip(loaders, overrides):
        loader.dataset.update(override)
    cfg.load_from = _tiny_checkpoint(tmp_path / 'c2am.pth')
    metrics = Runner.from_cfg(cfg).test()
    assert metrics['wsol/num_images'] == num
    # The test split is scored at the threshold chosen on the held-out one.
    assert metrics['wsol/threshold'] == metrics['held_out/best_threshold']
    assert 0 <= metrics['wsol/GT-known'] <= 100
    assert 'wsol/MaxBoxAccV2' in metrics
    if kind == 'cub':  # masks: PxAP
        assert 0 <= metrics['wsol/PxAP'] <= 100
    if kind in ('ilsvrc', 'coco'):  # an image without box
        assert metrics['wsol/num_without_box'] == 1


def test_given_threshold_skips_the_held_out_split(tmp_path):
    name, overrides, _ = _fabricated('coco', str(tmp_path / 'data'))
    cfg, loaders = _wsol_cfg(name, tmp_path / 'work')
    for loader, override in zip(loaders, overrides):
        loader.dataset.update(override)
    cfg.test_evaluator.threshold = 0.3
    # The held-out split is not even built.
    cfg.test_cfg.held_out_dataloader.dataset.ann_file = 'missing.json'
    cfg.load_from = _tiny_checkpoint(tmp_path / 'c2am.pth')
    metrics = Runner.from_cfg(cfg).test()
    assert metrics['wsol/threshold'] == 0.3
    assert not [k for k in metrics if k.startswith('held_out/')]


def _localizer(name, data_root, work_dir):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'wsol', name))
    cfg.model.backbone.init_cfg = None
    cfg.work_dir = str(work_dir)
    cfg.visualizer.name = f'vis_{name}'
    cfg.train_cfg.max_iters = 2
    cfg.default_hooks.checkpoint.interval = 2
    for scheduler in cfg.param_scheduler:
        scheduler.update(
            begin=min(scheduler.begin, 1), end=min(scheduler.end, 2))
    for loader in (cfg.train_dataloader, cfg.test_dataloader):
        loader.batch_size = 4
        loader.dataset.data_root = data_root
    return cfg


def test_end_to_end_on_the_embedded_default(tmp_path):
    data = str(tmp_path / 'scenes')
    # 1. The scenes as files (the localizers read files).
    assert export_scenes.main(
        ['--out', data, '--size', '64', '--splits', 'train:0:12',
         'test:2:4']) == 0
    # 2. C²AM, briefly, on the in-memory training scenes.
    cfg, loaders = _wsol_cfg('c2am_scenes_wsol.py', tmp_path / 'c2am')
    cfg.train_cfg.max_iters = 4
    cfg.param_scheduler[0].end = 4
    cfg.default_hooks.checkpoint.interval = 4
    cfg.custom_hooks = [dict(type='C2AMPolarityHook', decide_after_iters=2)]
    cfg.train_dataloader.batch_size = 4
    cfg.train_dataloader.dataset.update(num_scenes=12, img_size=64)
    for loader in loaders:
        loader.dataset.update(num_scenes=4, img_size=64)
    Runner.from_cfg(cfg).train()
    checkpoint = str(tmp_path / 'c2am' / 'iter_4.pth')
    assert torch.load(
        checkpoint, weights_only=False)['state_dict']['polarity_decided']
    # 3. Test at the held-out threshold, drawing every second scene.
    cfg.load_from = checkpoint
    cfg.default_hooks.visualization.update(draw=True, interval=2)
    cfg.visualizer.save_dir = str(tmp_path / 'vis')
    cfg.visualizer.name = 'vis_c2am_test'
    metrics = Runner.from_cfg(cfg).test()
    tau = metrics['held_out/best_threshold']
    assert metrics['wsol/threshold'] == tau
    for key in ('wsol/GT-known', 'wsol/MaxBoxAccV2', 'wsol/PxAP'):
        assert 0 <= metrics[key] <= 100
    drawn = os.listdir(tmp_path / 'vis' / 'vis_data' / 'vis_image')
    assert sorted(drawn) == ['test_00000_0.png', 'test_00002_2.png']
    # 4. Pseudo boxes of the exported training scenes.
    cfg.extract_dataset.data_root = data
    cfg.dump(str(tmp_path / 'c2am_tiny.py'))
    boxes = osp.join(data, 'pseudo_boxes.json')
    assert extract_boxes.main([
        str(tmp_path / 'c2am_tiny.py'), checkpoint, '--threshold',
        str(tau), '--out', boxes, '--workers', '0'
    ]) == 0
    content = json.load(open(boxes))
    assert len(content['images']) == 12
    assert content['images'][0]['file_name'] == '00000.png'
    # 5. Both localizers, a few iterations each, scored on the test scenes.
    for name in ('psol_r18_scenes.py', 'faster_rcnn_r18_fpn_scenes.py'):
        runner = Runner.from_cfg(_localizer(name, data, tmp_path / name[:-3]))
        runner.train()
        metrics = runner.test()
        assert metrics['loc/num_images'] == 4
        assert 0 <= metrics['loc/GT-known'] <= 100
        assert metrics['loc/num_without_prediction'] == 0
    # 6. Pictures by the tool; a second run keeps them.
    out = str(tmp_path / 'pictures')
    args = [
        str(tmp_path / 'c2am_tiny.py'), checkpoint, '--threshold',
        str(tau), '--out', out, '--num', '2', '--scale', '2'
    ]
    assert visualize_maps.main(args) == 0
    pictures = sorted(os.listdir(out))
    assert pictures == ['00000_00000.png', '00001_00001.png']
    assert visualize_maps.draw(visualize_maps.parse_args(args)) == []
    assert cv2.imread(osp.join(out, pictures[0])).shape == (128, 128, 3)
