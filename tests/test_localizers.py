"""The localizers' parts against hand-computed cases: BoxRegressor's boxes
and losses, LocalizerMetric's scores, and the recipe configs."""
import json
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData


ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture
def mmdet_scope():
    init_default_scope('mmdet')


def _logit(p):
    return math.log(p / (1 - p))


def _regressor():
    """A BoxRegressor whose fc always gives (cx, cy, w, h) = (0.5, 0.25,
    0.5, 0.25)."""
    from mmdet.registry import MODELS
    model = MODELS.build(
        dict(
            type='BoxRegressor',
            backbone=dict(
                type='ResNet', depth=18, base_channels=8, out_indices=(3, )),
            in_channels=64))
    with torch.no_grad():
        model.fc.weight.zero_()
        model.fc.bias.copy_(
            torch.tensor(
                [_logit(0.5),
                 _logit(0.25),
                 _logit(0.5),
                 _logit(0.25)]))
    return model


def _sample(boxes, img_shape=(40, 80), scale_factor=(2.0, 2.0)):
    sample = DetDataSample(
        metainfo=dict(img_shape=img_shape, scale_factor=scale_factor))
    sample.gt_instances = InstanceData(
        bboxes=HorizontalBoxes(
            torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)),
        labels=torch.zeros(len(boxes), dtype=torch.long))
    return sample


def test_box_regressor_predict_and_losses(mmdet_scope):
    model = _regressor().eval()
    inputs = torch.zeros(2, 3, 40, 80)
    # Corners (0.25, 0.125, 0.75, 0.375) of an 80 x 40 input: [20, 5, 60,
    # 15], divided by the scale factor 2: [10, 2.5, 30, 7.5].
    with torch.no_grad():
        out = model(inputs, [_sample([]), _sample([])], mode='predict')
    np.testing.assert_allclose(
        out[0].pred_instances.bboxes, [[10, 2.5, 30, 7.5]], rtol=1e-6)
    assert out[0].pred_instances.scores.tolist() == [1.0]
    assert out[0].pred_instances.labels.tolist() == [0]
    # The prediction itself as target: no loss; an image without box is
    # left out.
    losses = model(
        inputs,
        [_sample([[20, 5, 60, 15]]), _sample([])], mode='loss')
    assert losses['loss_bbox'].item() == pytest.approx(0, abs=1e-6)
    assert losses['loss_iou'].item() == pytest.approx(0, abs=1e-6)
    # The largest box [30, 5, 50, 15] (w 0.25 instead of 0.5) is the
    # target: smooth L1 (beta 0.1) 0.25 - 0.05 = 0.2 over 4 values, and
    # GIoU 1 - 0.5 (IoU 0.5, the enclosing box is the prediction).
    losses = model(
        inputs, [_sample([[30, 5, 50, 15], [0, 0, 4, 4]]),
                 _sample([])],
        mode='loss')
    assert losses['loss_bbox'].item() == pytest.approx(0.05, abs=1e-6)
    assert losses['loss_iou'].item() == pytest.approx(0.5, abs=1e-6)
    # No box in the batch: zero losses that still reach the parameters.
    losses = model(inputs, [_sample([]), _sample([])], mode='loss')
    total = losses['loss_bbox'] + losses['loss_iou']
    total.backward()
    assert total.item() == 0 and model.fc.bias.grad is not None


def _det(pred, scores, gt, path, label):
    sample = DetDataSample(metainfo=dict(img_path=path, gt_label=label))
    sample.pred_instances = InstanceData(
        bboxes=torch.tensor(pred, dtype=torch.float32).reshape(-1, 4),
        scores=torch.tensor(scores, dtype=torch.float32))
    sample.gt_instances = InstanceData(
        bboxes=HorizontalBoxes(
            torch.tensor(gt, dtype=torch.float32).reshape(-1, 4)))
    return sample


def test_localizer_metric_by_hand(mmdet_scope, tmp_path):
    """A: top box (score 0.9) equals the ground truth, IoU 1. B: IoU
    100 / 200 = 0.5 (inclusive corners). C: no prediction. D: no box."""
    from mmdet.registry import METRICS
    samples = [
        _det([[0, 0, 9, 9], [10, 10, 19, 19]], [0.2, 0.9], [[10, 10, 19, 19]],
             'x/a.jpg', 1),
        _det([[0, 0, 9, 9]], [0.5], [[0, 0, 9, 19]], 'x/b.jpg', 2),
        _det([], [], [[0, 0, 9, 9]], 'x/c.jpg', 3),
        _det([[0, 0, 9, 9]], [0.5], [], 'x/d.jpg', 4),
    ]
    predictions = tmp_path / 'pred.json'
    predictions.write_text(
        json.dumps({
            'a.jpg': [1, 0, 0, 0, 0],
            'b.jpg': [0, 2, 5, 6, 7],
            'c.jpg': [3],
            'd.jpg': [4]
        }))
    metric = METRICS.build(
        dict(type='LocalizerMetric', predictions=str(predictions)))
    metric.process({}, samples[:3])
    metric.process({}, samples[3:])
    out = metric.compute_metrics(metric.results)
    assert out['GT-known'] == 50
    assert out['GT-known@0.3'] == 50 and out['GT-known@0.7'] == 25
    assert out['GT-known mean'] == pytest.approx(125 / 3)
    assert out['mIoU'] == pytest.approx(37.5)
    assert out['Top-1 Loc'] == 25 and out['Top-5 Loc'] == 50
    assert out['Top-1 Cls'] == 75 and out['Top-5 Cls'] == 100
    assert out['num_without_box'] == 1
    assert out['num_without_prediction'] == 1
    with pytest.raises(KeyError, match='gt_instances.bboxes'):
        metric.process({}, [dict(img_path='e.jpg')])


@pytest.mark.parametrize('name', [
    'faster_rcnn_r50_fpn_cub_pseudo.py', 'psol_r50_cub_pseudo.py',
    'faster_rcnn_r18_fpn_scenes.py', 'psol_r18_scenes.py'
])
def test_localizer_configs(name, mmdet_scope):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'wsol', name))
    assert cfg.default_scope == 'mmdet'
    assert cfg.train_dataloader.dataset.type == 'CocoDataset'
    assert cfg.train_dataloader.dataset.metainfo.classes == ('object', )
    assert cfg.test_evaluator.type == 'LocalizerMetric'
    assert cfg.model.backbone.init_cfg.type == 'PretrainedAnyPrefix'
    if 'faster' in name:
        assert cfg.model.roi_head.bbox_head.num_classes == 1
    if 'r50' in name:  # the recipes build their models
        from mmdet.registry import MODELS
        model = MODELS.build(
            dict(cfg.model, backbone=dict(cfg.model.backbone, init_cfg=None)))
        assert sum(p.numel() for p in model.parameters()) > 2e7
