"""Localisation scores of object maps over a threshold grid.

Per image, as in the WSOL protocol (method.md section 5):

- **GT-known**: the box of the map's largest contour at ``tau``
  (:func:`mmc2am.functional.boxes.maps_to_boxes`, the reference procedure)
  has IoU >= ``iou_threshold`` with some ground-truth box
  (:func:`mmc2am.functional.boxes.box_iou`, the reference's inclusive-corner
  IoU);
- **mask IoU**: the IoU of the min-max normalised map binarised at ``tau``
  (a pixel is in when it is strictly above ``tau``, like the box procedure)
  with the foreground mask.

Each function returns the mean over images at every threshold, so a
threshold can be chosen on one split (the best of its curve) and read off
another split's curve: that is how the demo keeps the test split out of
the choice.
"""
from typing import Sequence, Tuple

import numpy as np

from mmc2am.functional.boxes import box_iou, maps_to_boxes, normalize_map


def gt_known_curve(maps: Sequence[np.ndarray],
                   gt_boxes: Sequence[np.ndarray],
                   thresholds: Sequence[float],
                   iou_threshold: float = 0.5) -> np.ndarray:
    """Share of images localised at each threshold (GT-known Loc).

    Args:
        maps (Sequence[np.ndarray[H, W]]): Object maps, any range.
        gt_boxes (Sequence[np.ndarray[K, 4]]): Ground-truth ``[x0, y0, x1,
            y1]`` boxes of each image, in its map's pixels. An image without
            a box is never localised.
        thresholds (Sequence[float]): Thresholds ``tau`` relative to each
            map's maximum.
        iou_threshold (float): Least IoU of a hit. Defaults to 0.5.

    Returns:
        np.ndarray[T]: float64 GT-known at each threshold, in ``[0, 1]``.
    """
    _check_lengths(maps, gt_boxes, 'gt_boxes')
    boxes = maps_to_boxes(maps, thresholds)  # [N, T, 4]
    hits = np.zeros(boxes.shape[:2], dtype=bool)
    for index, gt in enumerate(gt_boxes):
        gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
        if len(gt):
            hits[index] = box_iou(boxes[index], gt).max(1) >= iou_threshold
    return hits.mean(0)


def mask_iou_curve(maps: Sequence[np.ndarray], masks: Sequence[np.ndarray],
                   thresholds: Sequence[float]) -> np.ndarray:
    """Mean IoU of the binarised maps with the foreground masks.

    Args:
        maps (Sequence[np.ndarray[H, W]]): Object maps, any range (each is
            min-max normalised).
        masks (Sequence[np.ndarray[H, W]]): Foreground masks, non-zero on
            objects, same shapes as the maps.
        thresholds (Sequence[float]): Thresholds ``tau`` in ``[0, 1]``.

    Returns:
        np.ndarray[T]: float64 mean IoU at each threshold; an image whose
        prediction and mask are both empty counts as IoU 1.
    """
    _check_lengths(maps, masks, 'masks')
    taus = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    total = np.zeros(len(taus))
    for m, mask in zip(maps, masks):
        m, mask = normalize_map(m), np.asarray(mask) != 0
        if m.shape != mask.shape:
            raise ValueError(f'a map of shape {m.shape} came with a mask of '
                             f'shape {mask.shape}; resize the maps to the '
                             'masks first.')
        # Pixels above each threshold, inside and outside the mask, from
        # the sorted values: no per-threshold pass over the image.
        fg, bg = np.sort(m[mask]), np.sort(m[~mask])
        inter = len(fg) - np.searchsorted(fg, taus, side='right')
        outside = len(bg) - np.searchsorted(bg, taus, side='right')
        union = len(fg) + outside
        total += np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    return total / max(len(maps), 1)


def binary_mask_iou(pred: np.ndarray, mask: np.ndarray) -> float:
    """IoU of a binary prediction with a foreground mask.

    Args:
        pred (np.ndarray[H, W]): Prediction, non-zero on objects.
        mask (np.ndarray[H, W]): Foreground mask, non-zero on objects.

    Returns:
        float: ``|pred & mask| / |pred | mask|``; 1 when both are empty
        (the convention of :func:`mask_iou_curve`).
    """
    pred, mask = np.asarray(pred) != 0, np.asarray(mask) != 0
    if pred.shape != mask.shape:
        raise ValueError(f'a prediction of shape {pred.shape} came with a '
                         f'mask of shape {mask.shape}; resize one first.')
    union = np.count_nonzero(pred | mask)
    return np.count_nonzero(pred & mask) / union if union else 1.0


def whole_image_scores(shapes: Sequence[Tuple[int, int]],
                       gt_boxes: Sequence[np.ndarray],
                       masks: Sequence[np.ndarray],
                       iou_threshold: float = 0.5) -> Tuple[float, float]:
    """GT-known and mean mask IoU of a box and a mask covering each image.

    The baseline a map must beat: the box is ``[0, 0, W - 1, H - 1]`` (the
    largest box the reference procedure can return), the mask is every
    pixel, so an image's mask IoU is its foreground share.

    Args:
        shapes (Sequence[tuple[int, int]]): ``(H, W)`` of each image.
        gt_boxes (Sequence[np.ndarray[K, 4]]): Ground-truth boxes.
        masks (Sequence[np.ndarray[H, W]]): Foreground masks.
        iou_threshold (float): Least IoU of a hit. Defaults to 0.5.

    Returns:
        tuple[float, float]: GT-known and mean mask IoU.
    """
    _check_lengths(shapes, gt_boxes, 'gt_boxes')
    _check_lengths(shapes, masks, 'masks')
    hits, ious = [], []
    for (h, w), gt, mask in zip(shapes, gt_boxes, masks):
        gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
        whole = np.array([[0, 0, w - 1, h - 1]], dtype=np.float64)
        hits.append(len(gt) > 0 and box_iou(whole, gt).max() >= iou_threshold)
        ious.append(float((np.asarray(mask) != 0).mean()))
    return float(np.mean(hits)), float(np.mean(ious))


def _check_lengths(first: Sequence, second: Sequence, name: str) -> None:
    if len(first) != len(second):
        raise ValueError(f'got {len(first)} maps (or images) but '
                         f'{len(second)} {name}; give one per image.')
    if len(first) == 0:
        raise ValueError('no images to score: the split is empty.')
