"""draw_wsol_sample: the frame it draws in and which boxes it draws."""
import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmengine.visualization import Visualizer
from mmseg.structures import SegDataSample

from mmc2am.visualization import draw_wsol_sample


def _sample(map_shape, img_path='none.png'):
    sample = SegDataSample(
        metainfo=dict(
            img_path=img_path,
            ori_shape=(30, 40),
            img_shape=(20, 20),
            gt_bboxes=np.array([[2, 2, 10, 10]], np.float32)))
    m = torch.zeros((1, ) + map_shape)
    m[0, 12:18, 12:18] = 1  # the box at 0.5: [12, 12, 18, 18]
    sample.seg_logits = PixelData(data=m)
    return sample


def _green(px):
    return px[1] > 90 and px[1] > px[0] + 60 and px[1] > px[2] + 60


def _red(px):
    return px[0] > 150 and px[1] < 60


def test_draws_in_the_input_frame_with_both_boxes():
    vis = Visualizer(name='wsol_drawing_input')
    out = draw_wsol_sample(
        vis, np.zeros((20, 20, 3), np.uint8), _sample((20, 20)), 0.5, scale=2)
    assert out.shape == (40, 40, 3)
    # Predicted box edge on row 24 (12 x 2), ground truth on row 4 (2 x 2).
    assert all(_green(out[24, x]) for x in range(27, 35))
    assert all(_red(out[4, x]) for x in range(6, 19))
    # A map without contour at the threshold has no predicted box.
    empty = _sample((20, 20))
    empty.seg_logits = PixelData(data=torch.zeros(1, 20, 20))
    out = draw_wsol_sample(
        vis, np.zeros((20, 20, 3), np.uint8), empty, 0.5, scale=2)
    assert not any(_green(out[24, x]) for x in range(27, 35))


def test_original_frame_reads_the_image_without_ground_truth(tmp_path):
    path = str(tmp_path / 'o.png')
    cv2.imwrite(path, np.full((30, 40, 3), 255, np.uint8))
    vis = Visualizer(name='wsol_drawing_original')
    out = draw_wsol_sample(vis, np.zeros((20, 20, 3), np.uint8),
                           _sample((30, 40), path), 0.5)
    assert out.shape == (30, 40, 3)
    assert not any(_red(out[2, x]) for x in range(3, 10))
    with pytest.raises(ValueError, match='neither'):
        draw_wsol_sample(vis, None, _sample((5, 5)), 0.5)
