"""WSOLMetric against cases computed by hand."""
import json

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import METRICS
from mmseg.structures import SegDataSample

from mmc2am.evaluation.metrics import wsol_metric
from mmc2am.evaluation.metrics.wsol_metric import WSOLMetric

GRID = np.arange(0, 1, 0.01)


def sample(m, boxes, path, **extra) -> dict:
    """A sample as mmengine's evaluator passes it."""
    out = dict(
        img_path=path,
        seg_logits=dict(data=torch.as_tensor(m, dtype=torch.float32)[None]),
        gt_bboxes=np.asarray(boxes, dtype=np.float32).reshape(-1, 4))
    out.update(extra)
    return out


def four_images() -> list:
    """A, B, C, D on 20 x 20 maps (boxes of the largest contour, by hand):

    - A: one 8x8 square (rows, columns 2-9) -> [2, 2, 10, 10] at every tau;
      IoU with [2, 2, 9, 9] = 64 / 81.
    - B: a 0.4 left half and a 4x4 square of 1 (rows 12-15, columns 14-17).
      tau < 0.4 keeps both, the half wins: [0, 0, 10, 19], IoU 0; tau >= 0.4
      (cut int(0.4 * 255) = 102 drops the 102s) keeps the square:
      [14, 12, 18, 16], IoU with [14, 12, 17, 15] = 16 / 25. Every-contour
      mode always has the square's box.
    - C: a 10x10 square (5-14) -> [5, 5, 15, 15]; two GT boxes, the second
      matches with IoU 100 / 121.
    - D: a constant map -> [0, 0, 0, 0]; IoU 0 with [10, 10, 19, 19].
    """
    a = np.zeros((20, 20))
    a[2:10, 2:10] = 1
    b = np.zeros((20, 20))
    b[:, :10] = 0.4
    b[12:16, 14:18] = 1
    c = np.zeros((20, 20))
    c[5:15, 5:15] = 1
    d = np.full((20, 20), 0.3)
    return [
        sample(a, [2, 2, 9, 9], 'imgs/a.jpg', gt_label=0),
        sample(b, [14, 12, 17, 15], 'imgs/b.jpg', gt_label=1),
        sample(c, [[0, 0, 3, 3], [5, 5, 14, 14]], 'imgs/c.jpg', gt_label=2),
        sample(d, [10, 10, 19, 19], 'imgs/d.jpg', gt_label=3),
    ]


# Top-5 classes per image: A right, B second, C wrong, D right.
RANKED = {
    'imgs/a.jpg': [0, 9, 8, 7, 6],
    'imgs/b.jpg': [5, 1, 2, 3, 4],
    'imgs/c.jpg': [7, 8, 9, 10, 11],
    'imgs/d.jpg': [3, 1, 2, 0, 4],
}


def evaluate(metric: WSOLMetric, samples: list, batch: int = 3) -> dict:
    for i in range(0, len(samples), batch):
        metric.process({}, samples[i:i + batch])
    return metric.compute_metrics(metric.results)


def test_box_metrics_by_hand():
    metric = METRICS.build(
        dict(
            type='WSOLMetric',
            threshold=0.3,
            choose_on_test=True,
            num_threads=2))
    out = evaluate(metric, four_images())
    # IoU 0.5: A, C at every tau; B from tau = 0.40 on; D never.
    curve = np.array(out['GT-known curve'])
    np.testing.assert_allclose(curve[:40], 50.0)
    np.testing.assert_allclose(curve[40:], 75.0)
    assert out['MaxBoxAcc'] == pytest.approx(75.0)
    assert out['best_threshold'] == pytest.approx(0.40)
    # Every contour: IoU 0.3 and 0.5 A, B, C everywhere; IoU 0.7 A, C.
    assert out['MaxBoxAccV2@0.3'] == pytest.approx(75.0)
    assert out['MaxBoxAccV2@0.5'] == pytest.approx(75.0)
    assert out['MaxBoxAccV2@0.7'] == pytest.approx(50.0)
    assert out['MaxBoxAccV2'] == pytest.approx(200 / 3)
    # Held-out threshold 0.3 vs the test-tuned 0.40.
    assert out['threshold'] == pytest.approx(0.3)
    assert out['GT-known'] == pytest.approx(50.0)
    assert out['threshold@test-tuned'] == pytest.approx(0.40)
    assert out['GT-known@test-tuned'] == pytest.approx(75.0)
    assert out['num_images'] == 4 and out['num_without_box'] == 0
    assert 'Top-1 Loc' not in out and 'PxAP' not in out


def test_top_k_loc_from_scores_and_files(tmp_path):
    samples = four_images()
    for s in samples:
        score = torch.zeros(12)
        score[RANKED[s['img_path']]] = torch.arange(5, 0, -1).float()
        s['pred_score'] = score
    kwargs = dict(type='WSOLMetric', threshold=0.3, choose_on_test=True)
    from_scores = evaluate(METRICS.build(kwargs), samples)
    # Classes: top-1 A, D; top-5 A, B, D. Boxes at 0.3: A, C; at 0.40: A-C.
    expected = {
        'Top-1 Cls': 50.0,
        'Top-5 Cls': 75.0,
        'Top-1 Loc': 25.0,
        'Top-5 Loc': 25.0,
        'Top-1 Loc@test-tuned': 25.0,
        'Top-5 Loc@test-tuned': 50.0,
    }
    for key, value in expected.items():
        assert from_scores[key] == pytest.approx(value), key

    # The same from files keyed by a trailing part of the paths.
    plain = [{
        k: v
        for k, v in s.items() if k != 'pred_score'
    } for s in four_images()]
    for s in plain:
        s['img_path'] = '/data/set/' + s['img_path']
    as_json = tmp_path / 'top5.json'
    as_json.write_text(json.dumps(RANKED))
    as_txt = tmp_path / 'top5.txt'
    as_txt.write_text(''.join(f'{k} ' + ' '.join(map(str, v)) + '\n'
                              for k, v in RANKED.items()))
    for path in (as_json, as_txt):
        out = evaluate(
            METRICS.build(dict(kwargs, predictions=str(path))), plain)
        for key, value in expected.items():
            assert out[key] == pytest.approx(value), (path, key)

    with pytest.raises(FileNotFoundError, match='no such file'):
        WSOLMetric(predictions=str(tmp_path / 'missing.json'))
    metric = WSOLMetric(predictions=str(as_json))
    with pytest.raises(KeyError, match='no entry for imgs/zzz.jpg'):
        metric.process(
            {}, [sample(np.eye(4), [0, 0, 1, 1], 'imgs/zzz.jpg', gt_label=0)])


def test_top_k_loc_topk_labels_and_missing_label():
    samples = four_images()
    for s in samples:
        s['topk_labels'] = RANKED[s['img_path']]
    out = evaluate(WSOLMetric(threshold=0.3), samples)
    assert out['Top-1 Loc'] == pytest.approx(25.0)
    del samples[0]['gt_label']
    with pytest.raises(KeyError, match='imgs/a.jpg'):
        WSOLMetric().process({}, samples[:1])
    # Predictions for some images only: an error at the end.
    metric = WSOLMetric()
    mixed = four_images()
    mixed[1]['topk_labels'] = [1]
    with pytest.raises(ValueError, match='3 of 4 images have no class'):
        evaluate(metric, mixed)


def test_images_without_box_count_as_wrong(monkeypatch):
    warnings = []
    monkeypatch.setattr(wsol_metric, '_warn', warnings.append)
    a = four_images()[0]
    empty = sample(np.eye(20), np.zeros((0, 4)), 'imgs/empty.jpg')
    no_key = sample(np.eye(20), [], 'imgs/nokey.jpg')
    del no_key['gt_bboxes']
    out = evaluate(WSOLMetric(threshold=0.5), [a, empty, no_key])
    assert out['MaxBoxAcc'] == pytest.approx(100 / 3)
    assert out['GT-known'] == pytest.approx(100 / 3)
    assert out['num_without_box'] == 2
    assert "2 of 3 images have no ground-truth box" in warnings[0]
    assert 'imgs/empty.jpg' in warnings[0]


def test_boxes_past_the_map_warn_once(monkeypatch):
    warnings = []
    monkeypatch.setattr(wsol_metric, '_warn', warnings.append)
    far = sample(np.eye(20), [30, 30, 60, 60], 'imgs/far.jpg')
    evaluate(WSOLMetric(), [far, far])
    assert len(warnings) == 1 and 'same frame' in warnings[0]


def test_data_samples_and_gt_instances():
    data_sample = SegDataSample(
        metainfo=dict(img_path='x.jpg', gt_bboxes=np.array([[2, 2, 9, 9]])))
    data_sample.seg_logits = PixelData(
        data=torch.as_tensor(four_images()[0]['seg_logits']['data']))
    as_instances = four_images()[0]
    as_instances['gt_instances'] = dict(
        bboxes=torch.tensor([[2., 2., 9., 9.]]))
    del as_instances['gt_bboxes']
    out = evaluate(WSOLMetric(), [data_sample, as_instances])
    assert out['MaxBoxAcc'] == pytest.approx(100.0)


def test_bad_maps_raise():
    m = np.ones((6, 6))
    m[2, 3] = np.nan
    with pytest.raises(ValueError, match=r'imgs/nan.jpg has 1 NaN'):
        WSOLMetric().process({}, [sample(m, [0, 0, 2, 2], 'imgs/nan.jpg')])
    with pytest.raises(ValueError, match='imgs/empty.jpg has shape'):
        WSOLMetric().process(
            {}, [sample(np.zeros((0, 4)), [0, 0, 2, 2], 'imgs/empty.jpg')])
    with pytest.raises(KeyError, match='seg_logits'):
        WSOLMetric().process({}, [dict(img_path='x.jpg')])
    with pytest.raises(ValueError, match='thresholds'):
        WSOLMetric(thresholds=[])


def test_pxap_by_hand():
    # Scores 1 (fg), 0.5 (bg), 0.25 (fg), 0 (bg) and an ignored pixel.
    # From the top: P/R = 1/0.5, 0.5/0.5, 2/3/1, 0.5/1 ->
    # AP = 1 * 0.5 + 2/3 * 0.5 = 5/6.
    m = np.array([[1.0, 0.5, 0.7], [0.0, 0.25, 0.7]])
    mask = np.array([[1, 0, 255], [0, 1, 255]])
    s = sample(
        m, [0, 0, 0, 0],
        'imgs/px.jpg',
        gt_sem_seg=dict(data=torch.as_tensor(mask)[None]))
    out = evaluate(WSOLMetric(), [s])
    assert out['PxAP'] == pytest.approx(500 / 6)
    # Two images pool their pixels; the second has a bg pixel scored 1 and
    # a fg pixel scored 0.
    m2 = np.array([[1.0, 0.0]])
    s2 = sample(
        m2, [0, 0, 0, 0],
        'imgs/px2.jpg',
        gt_sem_seg=dict(data=torch.as_tensor([[[0, 1]]])))
    out = evaluate(WSOLMetric(), [s, s2])
    # Scores: fg 1, 0.25, 0; bg 1, 0.5, 0. From the top: at 1: tp 1, fp 1
    # (P 1/2, R 1/3); at 0.5: P 1/3, R unchanged; at 0.25: tp 2, fp 2
    # (P 1/2, R 2/3); at 0: tp 3, fp 3 (P 1/2, R 1) -> AP 1/2.
    assert out['PxAP'] == pytest.approx(50.0)
    assert 'PxAP' not in evaluate(WSOLMetric(pxap=False), [s])
    bad = dict(s, gt_sem_seg=dict(data=torch.zeros(1, 3, 3)))
    with pytest.raises(ValueError, match='same frame'):
        WSOLMetric().process({}, [bad])
