"""The embedded-default demo (tools/demo.py) and the scores it prints."""
import json

import numpy as np
import pytest
import torch
from mmengine.config import Config

import demo
from mmc2am.apis.inference import init_c2am
from mmc2am.apis.multiscale import multiscale_map
from mmc2am.datasets import generate_scene
from mmc2am.functional.cues import background_cue
from mmc2am.functional.localization import (binary_mask_iou, gt_known_curve,
                                            mask_iou_curve,
                                            whole_image_scores)

TINY = [
    '--init-iters', '3', '--c2am-iters', '3', '--num-train', '16',
    '--batch-size', '8', '--num-val', '6', '--num-test', '5', '--img-size',
    '64', '--num-vis', '2', '--val-seed', '11', '--test-seed', '12'
]


# ------------------------------------------------------------- hand cases
def test_whole_image_scores_hand_case():
    # 10 x 10 images; the whole box [0, 0, 9, 9] covers 100 pixels.
    boxes = [
        np.array([[0, 0, 9, 9]]),  # IoU 1
        np.array([[0, 0, 4, 9]]),  # 50 / 100 = 0.5: a hit
        np.array([[0, 0, 3, 9], [2, 2, 3, 3]]),  # 0.4 and 0.04: a miss
        np.zeros((0, 4)),  # no box: a miss
    ]
    masks = [np.zeros((10, 10), np.uint8) for _ in range(4)]
    masks[0][:5, :5] = 1  # 25 / 100
    masks[1][:, :] = 1  # 1
    masks[2][0, :4] = 7  # 4 / 100 (any non-zero label is foreground)
    gt_known, mask_iou = whole_image_scores([(10, 10)] * 4, boxes, masks)
    assert gt_known == pytest.approx(0.5)
    assert mask_iou == pytest.approx((0.25 + 1 + 0.04 + 0) / 4)


def test_mask_iou_curve_hand_case():
    m = np.array([[0.0, 0.5], [1.0, 1.0]])
    mask = np.array([[0, 1], [1, 0]])
    # tau 0: 3 pixels in, 2 of them on the mask, union 3.
    # tau 0.6: 2 pixels in, 1 on the mask, union 3. tau 1: none, union 2.
    np.testing.assert_allclose(
        mask_iou_curve([m], [mask], [0.0, 0.6, 1.0]), [2 / 3, 1 / 3, 0])
    # Empty prediction and empty mask agree perfectly.
    np.testing.assert_allclose(
        mask_iou_curve([m], [np.zeros((2, 2))], [1.0]), [1.0])
    with pytest.raises(ValueError, match='resize the maps'):
        mask_iou_curve([m], [np.zeros((3, 3))], [0.5])
    with pytest.raises(ValueError, match='1 maps .* 2 masks'):
        mask_iou_curve([m], [mask, mask], [0.5])


def _val_and_test():
    """Val needs a high threshold, test a low one (see the comments)."""
    gt = np.array([[5, 5, 15, 15]], np.float32)  # pixel-edge: 10 x 10
    mask = np.zeros((20, 20), np.uint8)
    mask[5:15, 5:15] = 1
    # Val: object at 1 beside a 0.42 strip that merges with it below tau
    # 0.42: box [5, 0, 19, 19], IoU 121 / 300 < 0.5; above: IoU 1.
    val = np.zeros((20, 20), np.float32)
    val[:, 15:] = 0.42
    val[5:15, 5:15] = 1.0
    # Test: object at 0.3 with one peak pixel: above tau 0.3 only the peak
    # remains (a miss), below it the box is the object's (a hit).
    test = np.zeros((20, 20), np.float32)
    test[5:15, 5:15] = 0.3
    test[5, 5] = 1.0
    split = lambda m: dict(maps=[m], boxes=[gt], masks=[mask])  # noqa: E731
    return split(val), split(test)


def test_gt_known_curve_hand_case():
    val, test = _val_and_test()
    taus = [0.0, 0.2, 0.41, 0.43, 0.9]
    np.testing.assert_array_equal(
        gt_known_curve(val['maps'], val['boxes'], taus), [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(
        gt_known_curve(test['maps'], test['boxes'], taus), [1, 1, 0, 0, 0])


def test_thresholds_are_chosen_on_val_and_applied_to_test():
    val, test = _val_and_test()
    res = demo.choose_and_score(val, test)
    # The first grid value past the strip (0.42) wins on val...
    assert 0.41 < res['box_threshold'] <= 0.43
    assert 0.41 < res['mask_threshold'] <= 0.43
    assert res['val_gt_known'] == 1 and res['val_mask_iou'] == 1
    # ... and is applied to test, where it fails, although some other
    # threshold would have succeeded on test.
    assert res['gt_known'] == 0 and res['gt_known_test_best'] == 1
    assert res['mask_iou'] == pytest.approx(1 / 100)  # the peak pixel only
    assert res['mask_iou_test_best'] == 1  # below 0.3: the object
    assert res['whole_gt_known'] == 0  # 121 / 400
    assert res['whole_mask_iou'] == pytest.approx(100 / 400)


def test_binary_mask_iou_hand_case():
    pred = np.zeros((4, 5), np.uint8)
    pred[0:2, 0:3] = 255  # 6 pixels
    mask = np.zeros((4, 5), np.uint8)
    mask[1:3, 1:4] = 1  # 6 pixels, 2 shared
    assert binary_mask_iou(pred, mask) == pytest.approx(2 / 10)
    assert binary_mask_iou(pred * 0, mask * 0) == 1.0
    assert binary_mask_iou(pred * 0, mask) == 0.0
    with pytest.raises(ValueError, match='shape'):
        binary_mask_iou(pred, mask[:3])


def test_stage_config_applies_cfg_options_then_iterations(tmp_path):
    args = demo.parse_args([
        '--c2am-cfg-options', 'model.loss.alpha=0.05',
        'train_dataloader.batch_size=64'
    ])
    cfg = demo.stage_config(args.c2am_config, str(tmp_path), args, 7,
                            args.c2am_cfg_options)
    assert cfg.model.loss.alpha == 0.05
    assert cfg.train_dataloader.batch_size == 64
    assert cfg.train_cfg.max_iters == 7
    assert [s.end for s in cfg.param_scheduler] == [7]
    untouched = demo.stage_config(args.init_config, str(tmp_path), args, None,
                                  args.init_cfg_options)
    assert untouched.train_dataloader.batch_size == 32


# -------------------------------------------------------------- end to end
@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('demo')
    seen = {}
    choose = demo.choose_and_score

    def spy(val, test):
        seen.update(val=val, test=test)
        return choose(val, test)

    demo.choose_and_score = spy
    try:
        results = demo.main(TINY + ['--work-dir', str(work_dir)])
    finally:
        demo.choose_and_score = choose
    return work_dir, results, seen


def test_demo_runs_end_to_end(tiny_run, capsys):
    work_dir, res, _ = tiny_run
    for key in ('gt_known', 'mask_iou', 'whole_gt_known', 'whole_mask_iou',
                'val_gt_known', 'val_mask_iou'):
        assert 0.0 <= res[key] <= 1.0, key
    assert res['num_val'] == 6 and res['num_test'] == 5
    assert res['gt_known'] <= res['gt_known_test_best']
    assert res['mask_iou'] <= res['mask_iou_test_best']
    for key in ('box_threshold', 'mask_threshold'):
        assert res[key] in np.round(np.arange(0, 1, 0.01), 2)
    assert (work_dir / 'init' / 'iter_3.pth').is_file()
    assert (work_dir / 'c2am' / 'iter_3.pth').is_file()
    # Two drawings and their mosaic, enlarged 3 times.
    import cv2
    names = sorted(p.name for p in (work_dir / 'vis').iterdir())
    assert names == ['grid.png', 'test_000.png', 'test_001.png']
    assert cv2.imread(str(work_dir / 'vis' / 'test_000.png')).shape == (192,
                                                                         192,
                                                                         3)
    saved = json.loads((work_dir / 'results.json').read_text())
    assert saved['gt_known'] == res['gt_known']


def test_whole_image_figures_are_the_test_scenes(tiny_run):
    _, res, _ = tiny_run
    scenes = [generate_scene((12, i), 64) for i in range(5)]
    # Whole box [0, 0, 63, 63] (4096 pixels) against each pixel-edge box
    # read as inclusive corners, as the reference does.
    hits = []
    for s in scenes:
        areas = [(x1 - x0 + 1) * (y1 - y0 + 1) for x0, y0, x1, y1 in
                 np.clip(s['boxes'], 0, 63)]
        hits.append(max(areas) / 4096 >= 0.5)
    assert res['whole_gt_known'] == pytest.approx(np.mean(hits))
    assert res['whole_mask_iou'] == pytest.approx(
        np.mean([s['mask'].mean() for s in scenes]))


def test_choice_used_the_val_seed_and_scores_the_test_seed(tiny_run):
    _, _, seen = tiny_run
    for split, seed, num in (('val', 11, 6), ('test', 12, 5)):
        boxes = seen[split]['boxes']
        assert len(boxes) == num
        for i, got in enumerate(boxes):
            np.testing.assert_array_equal(got,
                                          generate_scene((seed, i),
                                                         64)['boxes'])


def test_cue_mask_iou_is_that_of_the_test_scenes_cues(tiny_run):
    work_dir, res, _ = tiny_run
    assert res['cue_threshold'] == 0.3
    assert res['cue_scales'] == [0.5, 1.0, 1.5, 2.0]
    model = init_c2am(
        Config.fromfile(str(work_dir / 'c2am' / 'c2am_scenes.py')),
        str(work_dir / 'c2am' / 'iter_3.pth'),
        output_frame='ori_shape').eval()
    ious = []
    with torch.no_grad():
        for i in range(5):
            scene = generate_scene((12, i), 64)
            obj_map = multiscale_map(model, scene['img'])
            cue = background_cue(obj_map, scene['img'], threshold=0.3) > 0
            gt = scene['mask'] > 0
            ious.append((cue & gt).sum() / max((cue | gt).sum(), 1))
    assert res['cue_mask_iou'] == pytest.approx(np.mean(ious))


def test_maps_are_the_flip_averaged_logits_at_the_test_scale(tiny_run):
    """The default map space is the logits (C2AM test_cfg.map_space):
    the scored maps are the oriented logits, not their sigmoid."""
    work_dir, res, seen = tiny_run
    assert res['map_space'] == 'logit' and res['test_scale'] == 2.0
    model = init_c2am(
        Config.fromfile(str(work_dir / 'c2am' / 'c2am_scenes.py')),
        str(work_dir / 'c2am' / 'iter_3.pth'),
        output_frame='ori_shape').eval()
    scene = generate_scene((12, 0), 64)
    data = model.data_preprocessor(
        dict(inputs=[torch.from_numpy(scene['img']).permute(2, 0, 1)]))
    x = torch.nn.functional.interpolate(
        data['inputs'], scale_factor=2.0, mode='bilinear')
    with torch.no_grad():
        logits = (model(x) + model(x.flip(-1)).flip(-1)) / 2
    expected = torch.nn.functional.interpolate(
        logits, size=(64, 64), mode='bilinear')[0, 0].numpy()
    np.testing.assert_allclose(seen['test']['maps'][0], expected, atol=1e-5)


def test_rerun_skips_trained_stages(tiny_run):
    work_dir, res, _ = tiny_run
    again = demo.main(TINY + ['--work-dir', str(work_dir), '--num-vis', '0'])
    assert again['times']['init'] == 0 and again['times']['c2am'] == 0
    assert again['gt_known'] == res['gt_known']
    assert again['mask_iou'] == res['mask_iou']
