"""Background cues from class-agnostic maps (method.md sections 6.2-6.3).

A cue is a single-channel uint8 map, foreground 255 and background 0 (the
reference's PNG format); a refined cue (e.g. a segmentation model's
probability times 255) may hold any value in between. Three steps:

1. :func:`fuse_multiscale`: pre-sigmoid maps of several scales and flips,
   polarity already applied, become one map in ``[0, 1]`` at image size.
2. :func:`background_cue`: threshold the fused map and refine it with the
   dense CRF of :mod:`mmc2am.functional.crf`.
3. :func:`read_cue` and :func:`cue_to_label`: read a cue PNG as a map in
   ``[0, 1]`` (for pseudo labels) or as 0/1 class ids (for training an
   mmseg model, which reads 255 as "ignore").
"""
import math
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from mmc2am.functional.crf import dense_crf_labels
from mmc2am.functional.pseudo_labels import as_array, load_label_map


def fuse_multiscale(maps: Sequence,
                    out_size: Tuple[int, int],
                    align_stride: Optional[int] = None) -> np.ndarray:
    """Fuse multi-scale maps: ReLU, resize to the image, sum, divide by max.

    Args:
        maps (Sequence[np.ndarray | Tensor]): Pre-sigmoid maps
            ``[H_s, W_s]`` (or ``[1, H_s, W_s]``), one per scale and flip,
            flipped back and with the polarity applied.
        out_size (tuple[int, int]): Image size ``(H, W)``.
        align_stride (int, optional): If given, every map is resized to the
            image size rounded up to a multiple of ``align_stride`` and then
            cropped to ``(H, W)``, as the reference does with its stride-16
            maps (a map cell covers ``stride`` pixels, the last row and
            column partly past the image). Defaults to None: resize to
            ``(H, W)``.

    Returns:
        np.ndarray[H, W]: float32 map with maximum 1; all zeros when no
        map has a positive value.
    """
    if len(maps) == 0:
        raise ValueError('fuse_multiscale needs at least one map.')
    height, width = out_size
    if height < 1 or width < 1:
        raise ValueError(f'out_size must be positive, got {out_size}.')
    if align_stride:
        height = math.ceil(height / align_stride) * align_stride
        width = math.ceil(width / align_stride) * align_stride
    fused = np.zeros((height, width), np.float32)
    for i, m in enumerate(maps):
        m = as_array(m).astype(np.float32)
        if m.ndim == 3 and m.shape[0] == 1:
            m = m[0]
        if m.ndim != 2 or m.size == 0:
            raise ValueError(f'map {i} must be [H, W] or [1, H, W]; got '
                             f'shape {m.shape}.')
        if not np.isfinite(m).all():
            raise ValueError(f'map {i} holds NaN or infinite values.')
        fused += cv2.resize(
            np.maximum(m, 0), (width, height), interpolation=cv2.INTER_LINEAR)
    fused = fused[:out_size[0], :out_size[1]]
    peak = fused.max()
    return fused / peak if peak > 0 else fused


def background_cue(obj_map: np.ndarray,
                   image: Optional[np.ndarray] = None,
                   threshold: float = 0.3,
                   crf: bool = True,
                   gt_prob: float = 0.7,
                   **crf_kwargs) -> np.ndarray:
    """Binary background cue of one image.

    Foreground where the map is strictly above ``threshold`` (the
    reference's argmax against a constant background, ties to background),
    then, with ``crf``, the argmax of a two-label dense CRF whose unary
    trusts that mask with ``gt_prob``. Defaults are the reference's.

    Args:
        obj_map (np.ndarray[H, W]): Object map in ``[0, 1]`` (e.g. from
            :func:`fuse_multiscale`).
        image (np.ndarray[H, W, 3], optional): uint8 image (RGB or BGR: the
            CRF's colour kernel is symmetric). Required with ``crf``.
        threshold (float): Foreground threshold. Defaults to 0.3.
        crf (bool): Whether to refine with the dense CRF. Defaults to True.
        gt_prob (float): CRF confidence in the thresholded mask.
            Defaults to 0.7.
        **crf_kwargs: Further arguments of
            :func:`mmc2am.functional.crf.dense_crf` (``num_iters=10``,
            ``gaussian_sxy=3``, ``gaussian_compat=3``, ``bilateral_sxy=50``,
            ``bilateral_srgb=5``, ``bilateral_compat=10``, ``backend``).

    Returns:
        np.ndarray[H, W]: uint8 cue, foreground 255, background 0.
    """
    obj_map = np.asarray(obj_map, dtype=np.float32)
    if obj_map.ndim != 2:
        raise ValueError(f'obj_map must be [H, W]; got {obj_map.shape}.')
    if not np.isfinite(obj_map).all():
        raise ValueError('obj_map holds NaN or infinite values.')
    if obj_map.size and (obj_map.min() < -1e-4 or obj_map.max() > 1 + 1e-4):
        raise ValueError(
            f'obj_map must lie in [0, 1], got {obj_map.min():.4g}..'
            f'{obj_map.max():.4g}; normalise it first (fuse_multiscale '
            'divides by the maximum).')
    foreground = (obj_map > threshold).astype(np.int64)
    if crf:
        if image is None:
            raise ValueError('background_cue with crf=True needs the image.')
        if np.shape(image)[:2] != obj_map.shape:
            raise ValueError(f'image {np.shape(image)[:2]} and obj_map '
                             f'{obj_map.shape} differ in size.')
        foreground = dense_crf_labels(image, foreground, 2, gt_prob,
                                      **crf_kwargs)
    return foreground.astype(np.uint8) * 255


def read_cue(path: str) -> np.ndarray:
    """Read a cue PNG as a foreground map in ``[0, 1]`` (value / 255).

    Args:
        path (str): Single-channel (or palette) PNG, foreground 255.

    Returns:
        np.ndarray[H, W]: float32 cue.
    """
    return load_label_map(path).astype(np.float32) / 255


def cue_to_label(cue: np.ndarray, threshold: int = 128) -> np.ndarray:
    """Turn a uint8 cue into mmseg class ids: 1 foreground, 0 background.

    Args:
        cue (np.ndarray[H, W]): uint8 cue, foreground 255.
        threshold (int): Values ``>= threshold`` are foreground, which
            binarises soft (refined) cues at one half. Defaults to 128.

    Returns:
        np.ndarray[H, W]: uint8 labels in ``{0, 1}``.
    """
    cue = np.asarray(cue)
    if cue.ndim != 2:
        raise ValueError(f'a cue must be [H, W]; got {cue.shape}.')
    return (cue >= threshold).astype(np.uint8)
