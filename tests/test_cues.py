import numpy as np
import pytest
import torch
from PIL import Image

from mmc2am.functional.cues import (background_cue, cue_to_label,
                                    fuse_multiscale, read_cue)


def test_fuse_multiscale_relu_sum_max():
    maps = [
        np.array([[1., -1.], [2., 0.]]),
        torch.tensor([[[1., 1.], [0., -3.]]]),  # [1, H, W] tensor
    ]
    fused = fuse_multiscale(maps, (2, 2))
    # ReLU, sum [[2, 1], [2, 0]], divide by the maximum 2.
    np.testing.assert_allclose(fused, [[1, 0.5], [1, 0]])
    assert fused.dtype == np.float32
    # One coarse cell covers the whole image.
    np.testing.assert_allclose(
        fuse_multiscale([np.array([[3.]])], (4, 5)), np.ones((4, 5)))


def test_fuse_multiscale_alignment():
    m = np.array([[0., 4.], [0., 4.]])
    # Plain resize 2 -> 6 (half-pixel centres): sample x / 3 - 1/3, clamped.
    plain = fuse_multiscale([m], (6, 6))[0]
    np.testing.assert_allclose(plain, [0, 0, 1 / 3, 2 / 3, 1, 1], atol=1e-6)
    # Stride 4: resize 2 -> 8 (samples x / 4 - 3/8: values 4 * that, clamped,
    # [0, 0, .5, 1.5, 2.5, 3.5, 4, 4]), crop to 6, divide by the cropped max.
    aligned = fuse_multiscale([m], (6, 6), align_stride=4)[0]
    np.testing.assert_allclose(
        aligned, np.array([0, 0, 0.5, 1.5, 2.5, 3.5]) / 3.5, atol=1e-6)


def test_fuse_multiscale_guards():
    zeros = fuse_multiscale([-np.ones((3, 3)), np.zeros((2, 2))], (4, 4))
    assert not np.isnan(zeros).any() and (zeros == 0).all()
    with pytest.raises(ValueError, match='NaN'):
        fuse_multiscale([np.full((2, 2), np.nan)], (4, 4))
    with pytest.raises(ValueError, match='at least one'):
        fuse_multiscale([], (4, 4))
    with pytest.raises(ValueError, match=r'map 1 must be'):
        fuse_multiscale([np.ones((2, 2)), np.ones((2, 2, 2))], (4, 4))


def test_background_cue_threshold_without_crf():
    obj_map = np.array([[0.3, 0.31], [0.0, 1.0]])
    cue = background_cue(obj_map, threshold=0.3, crf=False)
    np.testing.assert_array_equal(cue, [[0, 255], [0, 255]])
    assert cue.dtype == np.uint8


def test_background_cue_crf_follows_the_image():
    image = np.empty((24, 32, 3), np.uint8)
    image[:, :16] = (220, 200, 30)
    image[:, 16:] = (20, 40, 160)
    x = np.arange(32, dtype=np.float32)
    # Soft map crossing 0.3 at column ~20.5: 5 columns too wide.
    obj_map = np.tile(1 / (1 + np.exp((x - 18) / 3)), (24, 1))
    assert ((obj_map > 0.3).sum(axis=1) == 21).all()
    cue = background_cue(obj_map, image, backend='numpy')
    expected = np.zeros((24, 32), np.uint8)
    expected[:, :16] = 255
    np.testing.assert_array_equal(cue, expected)


def test_background_cue_bad_inputs():
    with pytest.raises(ValueError, match='normalise'):
        background_cue(np.full((4, 4), 1.5), crf=False)
    with pytest.raises(ValueError, match='needs the image'):
        background_cue(np.zeros((4, 4)))
    with pytest.raises(ValueError, match='differ in size'):
        background_cue(np.zeros((4, 4)), np.zeros((5, 4, 3), np.uint8))


def test_read_cue_and_label(tmp_path):
    values = np.array([[0, 255, 128, 127]], np.uint8)
    path = str(tmp_path / 'cue.png')
    Image.fromarray(values).save(path)
    np.testing.assert_allclose(read_cue(path), values / 255)
    np.testing.assert_array_equal(cue_to_label(values), [[0, 1, 1, 0]])
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(path)
    with pytest.raises(ValueError, match='single-channel'):
        read_cue(path)
    with pytest.raises(FileNotFoundError, match='missing.png'):
        read_cue(str(tmp_path / 'missing.png'))
